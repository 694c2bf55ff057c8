import { EpistemeError, isEpistemeError, type ErrorCategory } from '@episteme/wal';
import { errnoOf } from '@episteme/wal/internals';

/**
 * Every error @episteme/consumers throws is a ConsumerError (an
 * EpistemeError) with a stable `code` and a `category`. Errors of the
 * journal underneath keep their own `WAL_*` codes.
 */
export const ConsumerErrorCodes = {
  /** A consumer name outside the allow-list (path characters, empty, too long, NUL...). */
  InvalidName: 'CONSUMER_INVALID_NAME',
  /** No consumer of that name is registered. */
  NotFound: 'CONSUMER_NOT_FOUND',
  /** A cursor that is not a record boundary within [earliest, head]. */
  InvalidCursor: 'CONSUMER_INVALID_CURSOR',
  /** A commit below the current cursor without an explicit reset. */
  CursorBackwards: 'CONSUMER_CURSOR_BACKWARDS',
  /** A cursor file that cannot be decoded or fails its checksum. */
  CorruptCursor: 'CONSUMER_CORRUPT_CURSOR',
  /** The consumer is running in a live process; stop it first. */
  Running: 'CONSUMER_RUNNING',
  /** Bad options or arguments. */
  InvalidArgument: 'CONSUMER_INVALID_ARGUMENT',
  /** Reading or writing a cursor file failed (EIO, ENOSPC, EACCES...); the errno error is the `cause`. */
  Io: 'CONSUMER_IO',
} as const;

export type ConsumerErrorCode = (typeof ConsumerErrorCodes)[keyof typeof ConsumerErrorCodes];

/** The category of each code: a new code without one does not compile. */
const ConsumerErrorCategories: Readonly<Record<ConsumerErrorCode, ErrorCategory>> = {
  CONSUMER_INVALID_NAME: 'invalid-input',
  CONSUMER_NOT_FOUND: 'not-found',
  CONSUMER_INVALID_CURSOR: 'invalid-input',
  // the position asked for is refused as a commit (a reset is the way back), whatever the stored state
  CONSUMER_CURSOR_BACKWARDS: 'invalid-input',
  CONSUMER_CORRUPT_CURSOR: 'corrupt',
  CONSUMER_RUNNING: 'conflict',
  CONSUMER_INVALID_ARGUMENT: 'invalid-input',
  CONSUMER_IO: 'io',
};

export class ConsumerError extends EpistemeError<ConsumerErrorCode> {
  constructor(code: ConsumerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, ConsumerErrorCategories[code], message, options);
  }
}

/** An EpistemeError of this package (a `CONSUMER_*` code), and when `code` is given, of that code. */
export function isConsumerError(err: unknown, code?: ConsumerErrorCode): err is ConsumerError {
  return isEpistemeError(err, code) && err.code.startsWith('CONSUMER_');
}

export class InvalidConsumerNameError extends ConsumerError {
  constructor(name: unknown, why: string) {
    super(ConsumerErrorCodes.InvalidName, `invalid consumer name ${JSON.stringify(String(name))}: ${why}`);
  }
}

export class ConsumerNotFoundError extends ConsumerError {
  constructor(readonly consumer: string) {
    super(ConsumerErrorCodes.NotFound, `no consumer named "${consumer}" is registered`);
  }
}

export class InvalidCursorError extends ConsumerError {
  constructor(readonly consumer: string, readonly cursor: unknown, why: string) {
    super(ConsumerErrorCodes.InvalidCursor, `invalid cursor ${String(cursor)} for consumer "${consumer}": ${why}`);
  }
}

export class CursorBackwardsError extends ConsumerError {
  constructor(readonly consumer: string, readonly current: number, readonly requested: number) {
    super(
      ConsumerErrorCodes.CursorBackwards,
      `consumer "${consumer}" is at ${current}; a commit of ${requested} would move it backwards (use reset to rewind)`,
    );
  }
}

export class CorruptCursorError extends ConsumerError {
  constructor(readonly path: string, readonly why: string) {
    super(ConsumerErrorCodes.CorruptCursor, `cursor file ${path} is damaged: ${why}; reset the consumer to a position (or delete it) to write it anew`);
  }
}

export class ConsumerRunningError extends ConsumerError {
  constructor(readonly consumer: string, pid: number) {
    super(ConsumerErrorCodes.Running, `consumer "${consumer}" is running in process ${pid}; stop it first`);
  }
}

export class InvalidConsumerArgumentError extends ConsumerError {
  constructor(message: string) {
    super(ConsumerErrorCodes.InvalidArgument, message);
  }
}

export class ConsumerIoError extends ConsumerError {
  /** The errno code of the cause (`EIO`, `ENOSPC`...), when it has one. */
  readonly errno: string | undefined;

  constructor(readonly operation: string, readonly path: string, cause: unknown) {
    const errno = errnoOf(cause);
    const why = cause instanceof Error ? cause.message : String(cause);
    super(ConsumerErrorCodes.Io, `cursor I/O failed: ${operation} ${path}: ${why}`, { cause });
    this.errno = errno;
  }
}
