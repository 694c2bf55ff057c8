import { EpistemeError, isEpistemeError, type ErrorCategory } from '@episteme/wal/errors';
/**
 * Every error @episteme/store throws is a StoreError (an EpistemeError) with a stable `code`
 * and a `category` (the categories every Episteme package shares). Match on
 * `code` (or `isStoreError(err, code)`), never on messages. Errors of the
 * journal underneath keep their own `WAL_*` codes.
 */

export const StoreErrorCodes = {
  /** The stream's version is not the one the append or delete expected; nothing was written. */
  VersionConflict: 'STORE_VERSION_CONFLICT',
  /** An event id is already in the log with other content, or in another commit; nothing was written. */
  DuplicateEventId: 'STORE_DUPLICATE_EVENT_ID',
  /** A stream name outside the allow-list (empty, too long, characters, reserved `$` prefix). */
  InvalidStreamName: 'STORE_INVALID_STREAM_NAME',
  /** A bad argument or option (empty commit, unknown expected version, non-serialisable data, ...); nothing was written. */
  InvalidArgument: 'STORE_INVALID_ARGUMENT',
  /** The encoded commit is larger than the journal's maxPayloadBytes; nothing was written. */
  CommitTooLarge: 'STORE_COMMIT_TOO_LARGE',
  /** The stream was deleted; appending to it again needs `recreate: true`. */
  StreamDeleted: 'STORE_STREAM_DELETED',
  /** The stream to delete does not exist. */
  StreamNotFound: 'STORE_STREAM_NOT_FOUND',
  /** A commit was refused because an earlier pending commit of the same stream failed in the journal. */
  CommitAborted: 'STORE_COMMIT_ABORTED',
  /** A record of the log does not decode as a commit or tombstone. */
  CorruptCommit: 'STORE_CORRUPT_COMMIT',
  /** The store was closed. */
  Closed: 'STORE_CLOSED',
} as const;

export type StoreErrorCode = (typeof StoreErrorCodes)[keyof typeof StoreErrorCodes];

/** The category of each code: a new code without one does not compile. */
const CATEGORY: Readonly<Record<StoreErrorCode, ErrorCategory>> = {
  STORE_VERSION_CONFLICT: 'conflict',
  STORE_DUPLICATE_EVENT_ID: 'conflict',
  STORE_INVALID_STREAM_NAME: 'invalid-input',
  STORE_INVALID_ARGUMENT: 'invalid-input',
  STORE_COMMIT_TOO_LARGE: 'invalid-input',
  STORE_STREAM_DELETED: 'conflict',
  STORE_STREAM_NOT_FOUND: 'not-found',
  STORE_COMMIT_ABORTED: 'io',
  STORE_CORRUPT_COMMIT: 'corrupt',
  STORE_CLOSED: 'state',
};

export class StoreError extends EpistemeError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, CATEGORY[code], message, options);
  }
}

/** An EpistemeError of this package (a `STORE_*` code), and when `code` is given, of that code. */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return isEpistemeError(err, code) && err.code.startsWith('STORE_');
}

export class VersionConflictError extends StoreError {
  /** `actual`: the stream's version as the append found it (0: no stream), pending commits included. */
  constructor(readonly stream: string, readonly expected: string | number, readonly actual: number) {
    super(StoreErrorCodes.VersionConflict, `stream "${stream}": expected version ${String(expected)}, actual ${actual}`);
  }
}

export class DuplicateEventIdError extends StoreError {
  constructor(readonly eventId: string, readonly stream: string, why: string) {
    super(StoreErrorCodes.DuplicateEventId, `event id ${eventId} (stream "${stream}"): ${why}`);
  }
}

export class InvalidStreamNameError extends StoreError {
  constructor(readonly stream: unknown, why: string) {
    super(StoreErrorCodes.InvalidStreamName, `invalid stream name ${JSON.stringify(String(stream)).slice(0, 120)}: ${why}`);
  }
}

export class StoreInvalidArgumentError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreErrorCodes.InvalidArgument, message, options);
  }
}

export class CommitTooLargeError extends StoreError {
  constructor(readonly stream: string, readonly bytes: number, readonly limit: number) {
    super(StoreErrorCodes.CommitTooLarge, `commit to "${stream}" encodes to ${bytes} bytes, over the journal's maxPayloadBytes (${limit})`);
  }
}

export class StreamDeletedError extends StoreError {
  /** `doing`: what was refused; deleting a deleted stream is told as such (its advice to recreate would be beside the point). */
  constructor(readonly stream: string, doing: 'append' | 'delete' = 'append') {
    super(
      StoreErrorCodes.StreamDeleted,
      doing === 'delete' ? `stream "${stream}" is already deleted; nothing was written` : `stream "${stream}" was deleted; append with { recreate: true } to start it again`,
    );
  }
}

export class StreamNotFoundError extends StoreError {
  constructor(readonly stream: string) {
    super(StoreErrorCodes.StreamNotFound, `stream "${stream}" does not exist`);
  }
}

export class CommitAbortedError extends StoreError {
  constructor(readonly stream: string, cause: unknown) {
    super(StoreErrorCodes.CommitAborted, `commit to "${stream}" not written: an earlier commit of the stream failed (${(cause as Error)?.message ?? String(cause)})`, { cause });
  }
}

export class CorruptCommitError extends StoreError {
  constructor(readonly offset: number, why: string) {
    super(StoreErrorCodes.CorruptCommit, `the record at log position ${offset} is not a valid commit: ${why}`);
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super(StoreErrorCodes.Closed, 'the event store is closed');
  }
}

/**
 * Not thrown: reported through `onWarning` and `EventStore.warnings` when
 * opening could not trust the index checkpoint and rebuilt the index from
 * the log (nothing is lost; the open only took longer).
 */
export interface StoreWarning {
  code: 'STORE_INDEX_REBUILT';
  /** Why: the checkpoint file is missing, damaged, or describes another log. */
  reason: 'missing' | 'damaged' | 'stale';
  message: string;
}
