import { IsISO8601, IsNotEmpty, IsNumber, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

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

export { ValidationFailedError, type FailedConstraint } from './validation/validationFailedError.js';
export { validated, validatedByClassValidator, compiledCheckOf } from './validation/validated.js';
