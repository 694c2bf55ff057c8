import { isDefined, isInt, isISO8601, isNotEmpty, isNumber, isString, matches, max, maxLength, min, minLength } from 'class-validator';

/** One decorator's check of one value, without class-validator's executor around it. */
export type Predicate = (value: unknown) => boolean;

/**
 * The class-validator decorators the compiler knows, by the constraint
 * name class-validator registers them under, each turned into a predicate
 * from the decorator's arguments (`metadata.constraints`). Every predicate
 * is class-validator's own exported check with the same arguments, or a
 * shortcut that answers `true` only where that check would: a shortcut
 * that cannot decide calls the exported check. Undefined for arguments a
 * shortcut was not written for is never needed: the exported check takes
 * them all. A name missing here makes its class fall back to validateSync.
 */
export const KNOWN_CONSTRAINTS: ReadonlyMap<string, (args: readonly unknown[]) => Predicate> = new Map<string, (args: readonly unknown[]) => Predicate>([
  ['isDefined', () => isDefined],
  ['isNotEmpty', () => isNotEmpty],
  // isString also takes String objects, which JSON never holds: they go the long way
  ['isString', () => (v) => typeof v === 'string' || isString(v)],
  ['isInt', () => isInt],
  ['isNumber', ([options]) => (v) => isNumber(v, options as Parameters<typeof isNumber>[1])],
  ['min', ([bound]) => (v) => min(v, bound as number)],
  ['max', ([bound]) => (v) => max(v, bound as number)],
  ['maxLength', ([bound]) => maxLengthOf(bound)],
  ['minLength', ([bound]) => (v) => minLength(v, bound as number)],
  ['matches', ([pattern, modifiers]) => matchesOf(pattern, modifiers)],
  ['isIso8601', ([options]) => iso8601Of(options)],
]);

/**
 * validator.js counts a surrogate pair, and a character followed by a
 * variation selector, as one: its length is never more than the string's
 * UTF-16 length, so a string no longer than `bound` in UTF-16 units passes
 * without counting; a longer one is counted by the exported check.
 */
function maxLengthOf(bound: unknown): Predicate {
  if (typeof bound !== 'number') return (v) => maxLength(v, bound as number);
  return (v) => (typeof v === 'string' && v.length <= bound) || maxLength(v, bound);
}

/**
 * validator.js's matches is `!!str.match(pattern)`: for a plain RegExp
 * without the g or y flag that is `pattern.test(str)`, without the match
 * array. Any other pattern (a string, a subclass, a global one) is left to
 * the exported check.
 */
function matchesOf(pattern: unknown, modifiers: unknown): Predicate {
  if (pattern instanceof RegExp && Object.getPrototypeOf(pattern) === RegExp.prototype && !pattern.global && !pattern.sticky) {
    return (v) => typeof v === 'string' && pattern.test(v);
  }
  const exported = matches as (value: unknown, pattern: unknown, modifiers: unknown) => boolean;
  return (v) => exported(v, pattern, modifiers);
}

/**
 * The ISO 8601 check is a long regex and a Date: the last string it passed
 * is remembered (a pure function of the string and fixed options), since an
 * app's timestamps repeat: a batch shares one, a millisecond holds many.
 */
function iso8601Of(options: unknown): Predicate {
  let lastValid: string | undefined;
  return (v) => {
    if (typeof v === 'string' && v === lastValid) return true;
    if (!isISO8601(v, options as Parameters<typeof isISO8601>[1])) return false;
    lastValid = v as string;
    return true;
  };
}
