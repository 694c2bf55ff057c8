// the light entry: the import workers load this module, and need not load the log for an error class
import { EpistemeError } from '@episteme/wal/errors';
import { IsISO8601, IsNotEmpty, IsNumber, IsString, Matches, Max, MaxLength, Min, validateSync, type ValidationError } from 'class-validator';

/** Every assertion's events are in its own stream, `assertion-<id>`. */
export const ASSERTION_STREAM_PREFIX = 'assertion-';

export function streamOf(assertionId: string): string {
  return ASSERTION_STREAM_PREFIX + assertionId;
}

/** An id names its stream, so it takes a stream name's characters (docs/streams.md): letters, digits and - _ . : @ / + = ~ #. */
const ID = /^[A-Za-z0-9\-_.:@/+=~#]+$/;
const ID_MESSAGE = (property: string): string => `${property} may only hold letters, digits and - _ . : @ / + = ~ # (it names the assertion's stream)`;

/** An assertion made about a subject, as in a knowledge base: (subject, predicate, object). */
export class AssertionMade {
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(ID, { message: ID_MESSAGE('id') })
  id!: string;

  @IsString() @IsNotEmpty() @MaxLength(512)
  subject!: string;

  @IsString() @IsNotEmpty() @MaxLength(256)
  predicate!: string;

  @IsString() @IsNotEmpty() @MaxLength(2048)
  object!: string;

  // class-validator's own wording ("a number conforming to the specified constraints") hides what is wrong
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'confidence must be a number from 0 to 1 (a JSON number, not a string)' }) @Min(0) @Max(1)
  confidence!: number;

  @IsString() @IsNotEmpty() @MaxLength(256)
  source!: string;

  @IsISO8601({ strict: true })
  assertedAt!: string;
}

/** An earlier assertion withdrawn, with the reason. */
export class AssertionRetracted {
  @IsString() @IsNotEmpty() @MaxLength(128) @Matches(ID, { message: ID_MESSAGE('assertionId') })
  assertionId!: string;

  @IsString() @IsNotEmpty() @MaxLength(1024)
  reason!: string;

  @IsISO8601({ strict: true })
  retractedAt!: string;
}

/** The app's events as it appends them to the event store (an `Event` of @episteme/store: type, data, metadata). */
export type AssertionEvent =
  | { type: 'AssertionMade'; data: AssertionMade; metadata: EventMetaData }
  | { type: 'AssertionRetracted'; data: AssertionRetracted; metadata: EventMetaData };

// a type, not an interface: the store's metadata is a Record, which an interface does not satisfy
export type EventMetaData = {
  /** Who appended it (the app, a producer, an import file). */
  producer: string;
  /** Schema version of `data`. */
  schema: 1;
};

export interface FailedConstraint {
  property: string;
  /** Constraint name to message, as class-validator reports them. */
  constraints: Record<string, string>;
  value?: unknown;
}

/** Input that failed validation; lists every failed constraint. Nothing was appended. */
export class ValidationFailedError extends EpistemeError<'APP_VALIDATION_FAILED'> {
  constructor(readonly what: string, readonly failures: FailedConstraint[]) {
    super('APP_VALIDATION_FAILED', 'invalid-input', `invalid ${what}: ${failures.map((f) => Object.values(f.constraints).join(', ')).join('; ')}`);
  }
}

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/** Builds a validated instance of `cls` from plain JSON, or throws ValidationFailedError. */
export function validated<T extends object>(cls: new () => T, plain: unknown, what: string): T {
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
  const instance = instanceOf(cls, plain as Record<string, unknown>);
  const errors = validateSync(instance, OPTIONS);
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

/** Constraints on a value's type: when one fails, the others (length, range) say nothing more. */
const TYPE_CONSTRAINTS = ['isString', 'isNumber', 'isInt', 'isBoolean', 'isDateString', 'isISO8601'];

function flatten(errors: ValidationError[]): FailedConstraint[] {
  return errors.map((e) => {
    const all = e.constraints ?? { invalid: `${e.property} is invalid` };
    // a missing field is one problem, not every constraint it fails
    if (e.value === undefined) return { property: e.property, constraints: { isDefined: `${e.property} is required` }, value: e.value };
    const type = Object.keys(all).find((k) => TYPE_CONSTRAINTS.includes(k));
    return { property: e.property, constraints: type ? { [type]: all[type]! } : all, value: e.value };
  });
}
