import { EpistemeError } from '@episteme/wal/errors';

/**
 * The refusals of the write side, decided in the writer by the event
 * store's expected versions: nothing was appended for any of them. Each
 * names the assertion's stream and the versions involved.
 */

/** `retract` of an id that has no stream: no assertion ever had it. */
export class AssertionNotFoundError extends EpistemeError<'APP_ASSERTION_NOT_FOUND'> {
  constructor(readonly id: string, readonly stream: string) {
    super('APP_ASSERTION_NOT_FOUND', 'not-found', `no assertion has id ${JSON.stringify(id)} (stream "${stream}" does not exist); nothing was appended; \`episteme beliefs <subject>\` lists the ids`);
  }
}

/** `retract` of an assertion already retracted. */
export class AlreadyRetractedError extends EpistemeError<'APP_ALREADY_RETRACTED'> {
  constructor(readonly id: string, readonly stream: string, readonly version: number) {
    super('APP_ALREADY_RETRACTED', 'conflict', `assertion ${JSON.stringify(id)} is already retracted (stream "${stream}" at version ${version}); nothing was appended`);
  }
}

/** `assert` with an id that a standing assertion holds (a new assertion may take a retracted one's id). */
export class IdInUseError extends EpistemeError<'APP_ID_IN_USE'> {
  constructor(
    readonly id: string,
    readonly stream: string,
    readonly expected: string | number,
    readonly actual: number,
    /** The standing assertion's subject, when it could be read; undefined when the id was taken by a commit still in flight. */
    readonly subject: string | undefined,
  ) {
    super(
      'APP_ID_IN_USE',
      'conflict',
      `id ${JSON.stringify(id)} is already used by ${subject === undefined ? 'an assertion being appended' : `a standing assertion about ${JSON.stringify(subject)}`} ` +
        `(stream "${stream}": expected version ${String(expected)}, actual ${actual}); nothing was appended: retract it first, or leave the id out (a new one is made)`,
    );
  }
}

/**
 * The assertion's stream moved between the writer's read of it and the
 * append (another append in the same process came first): the expected
 * version refused it. Reading again gives the new state.
 */
export class AssertionConflictError extends EpistemeError<'APP_ASSERTION_CONFLICT'> {
  constructor(readonly id: string, readonly stream: string, readonly expected: string | number, readonly actual: number, cause: unknown) {
    super(
      'APP_ASSERTION_CONFLICT',
      'conflict',
      `assertion ${JSON.stringify(id)} changed meanwhile (stream "${stream}": expected version ${String(expected)}, actual ${actual}); nothing was appended; run the command again to see its state`,
      { cause },
    );
  }
}
