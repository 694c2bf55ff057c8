import { IS_BOOLEAN, IS_DATE_STRING, IS_INT, IS_ISO8601, IS_NUMBER, IS_STRING, validateSync, type ValidationError } from 'class-validator';
import { compileCheck, type CompiledCheck } from './compileCheck.js';
import { ValidationFailedError, type FailedConstraint } from './validationFailedError.js';

/** The app's validator options: unknown properties are refused, never stripped. */
export const VALIDATOR_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/** Each class compiled once, on its first validation. */
const compiled = new WeakMap<new () => object, CompiledCheck>();

/** The class's compiled check, or why it falls back to validateSync (tests, docs). */
export function compiledCheckOf(cls: new () => object): CompiledCheck {
  let c = compiled.get(cls);
  if (c === undefined) {
    c = compileCheck(cls, VALIDATOR_OPTIONS);
    compiled.set(cls, c);
  }
  return c;
}

/**
 * Builds a validated instance of `cls` from plain JSON, or throws
 * ValidationFailedError. The class's decorators decide: their compiled
 * check accepts the valid inputs, and whatever it does not accept goes to
 * class-validator's validateSync, which gives the messages (or accepts it
 * after all: the compiled check never says yes where class-validator says
 * no, and may say "ask" where it would say yes).
 */
export function validated<T extends object>(cls: new () => T, plain: unknown, what: string): T {
  if (typeof plain === 'object' && plain !== null && !Array.isArray(plain)) {
    const c = compiledCheckOf(cls);
    // an input the check accepts has only decorated names, none of them Object.prototype's: refuseNonObjects would pass it
    if ('check' in c && c.check(plain as Record<string, unknown>)) return assigned(cls, plain as Record<string, unknown>);
  }
  return checkedByClassValidator(cls, refuseNonObjects(plain, what), what);
}

/** `validated` as it was before the compiled check: class-validator on every input (the reference of the differential test and the bench). */
export function validatedByClassValidator<T extends object>(cls: new () => T, plain: unknown, what: string): T {
  return checkedByClassValidator(cls, refuseNonObjects(plain, what), what);
}

function refuseNonObjects(plain: unknown, what: string): Record<string, unknown> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new ValidationFailedError(what, [{ property: '(root)', constraints: { isObject: `${what} must be a JSON object` } }]);
  }
  // class-validator's whitelist looks these names up in a plain object, where
  // they are inherited ("constructor", "__proto__"...): it would let them through
  const inherited = Object.keys(plain).filter((k) => k in Object.prototype);
  if (inherited.length > 0) {
    throw new ValidationFailedError(
      what,
      inherited.map((k) => ({ property: k, constraints: { whitelistValidation: `property ${k} should not exist` }, value: (plain as Record<string, unknown>)[k] })),
    );
  }
  return plain as Record<string, unknown>;
}

function checkedByClassValidator<T extends object>(cls: new () => T, plain: Record<string, unknown>, what: string): T {
  const instance = instanceOf(cls, plain);
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) throw new ValidationFailedError(what, flatten(errors));
  return instance;
}

/**
 * A `cls` holding the JSON object's own properties as they are (no
 * conversion: a string confidence stays a string and fails validation),
 * for class-validator, which checks the instance's own properties
 * (whitelist) against the class's decorators. Each is defined, not
 * assigned: a JSON key "__proto__" stays a plain property (and is refused as
 * unknown) instead of replacing the instance's prototype. class-transformer's
 * plainToInstance did the same for these flat classes at about a fifth of a
 * line's validation time.
 */
function instanceOf<T extends object>(cls: new () => T, plain: Record<string, unknown>): T {
  const instance = new cls();
  for (const key of Object.keys(plain)) {
    Object.defineProperty(instance, key, { value: plain[key], enumerable: true, writable: true, configurable: true });
  }
  return instance;
}

/**
 * The same instance for an input the compiled check accepted: its keys are
 * all decorated names, none of which the class's prototype chain holds
 * (the compiler falls back otherwise), so plain assignment defines them as
 * own properties, as defineProperty would, at a fraction of its cost.
 */
function assigned<T extends object>(cls: new () => T, plain: Record<string, unknown>): T {
  const instance = new cls() as Record<string, unknown>;
  for (const key in plain) if (Object.prototype.hasOwnProperty.call(plain, key)) instance[key] = plain[key];
  return instance as T;
}

/** Constraints on a value's type: when one fails, the others (length, range) say nothing more. */
const TYPE_CONSTRAINTS = [IS_STRING, IS_NUMBER, IS_INT, IS_BOOLEAN, IS_DATE_STRING, IS_ISO8601]; // class-validator's constraint names ('isIso8601')

function flatten(errors: ValidationError[]): FailedConstraint[] {
  return errors.map((e) => {
    const all = e.constraints ?? { invalid: `${e.property} is invalid` };
    // a missing field is one problem, not every constraint it fails
    if (e.value === undefined) return { property: e.property, constraints: { isDefined: `${e.property} is required` }, value: e.value };
    const type = Object.keys(all).find((k) => TYPE_CONSTRAINTS.includes(k));
    return { property: e.property, constraints: type ? { [type]: all[type]! } : all, value: e.value };
  });
}
