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
    if (!(typeof v === 'string' && isCanonicalInstant(v)) && !isISO8601(v, options as Parameters<typeof isISO8601>[1])) return false;
    lastValid = v as string;
    return true;
  };
}

const ZERO = 48;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * `Date.prototype.toISOString`'s own shape (YYYY-MM-DDTHH:MM:SS.sssZ), a
 * real calendar day of a year from 1000 to 9999 and a time up to 23:59:59.999:
 * what an import of stored assertions holds, each time distinct, where the
 * remembered last string never hits. validator.js's strict check takes
 * every such string (its regex, then a Date of the day compared field by
 * field); `false` decides nothing, the exported check runs. Years before
 * 1000 are left to it: it builds the Date from the year's number, and
 * below four digits that is not an ISO date (it refuses 0050 and takes 0999).
 */
function isCanonicalInstant(s: string): boolean {
  if (s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) {
    return false;
  }
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 1000 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return false;
  const [hour, minute, second] = [digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2)];
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && digits(s, 20, 3) >= 0;
}

/** The number written by `count` ASCII digits at `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
