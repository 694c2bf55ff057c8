import { EpistemeError, isEpistemeError, type ErrorCategory } from './epistemeError.js';
import { hostname } from 'node:os';
import { codeOf } from './shared/errno.js';

export * from './epistemeError.js';

/**
 * Every error @episteme/wal throws is a WalError with a stable `code` and a
 * `category` (an EpistemeError). Match on `code` (or use
 * `isEpistemeError(err, code)`), not on messages or prototypes: codes are
 * part of the public contract, messages are not.
 */

export const WalErrorCodes = {
  /** An argument is invalid (bad option, bad offset type, ...). Nothing was changed. */
  InvalidArgument: 'WAL_INVALID_ARGUMENT',
  /** The directory does not exist, is not readable, or holds no journal. */
  NotAJournal: 'WAL_NOT_A_JOURNAL',
  /** A segment header is invalid (magic, version, flags, CRC, base offset). */
  BadSegmentHeader: 'WAL_BAD_SEGMENT_HEADER',
  /** Segments are not contiguous (gap or overlap between consecutive bases). */
  SegmentGap: 'WAL_SEGMENT_GAP',
  /** A record failed validation where it must be valid. */
  CorruptRecord: 'WAL_CORRUPT_RECORD',
  /** Sealed data is damaged: open refuses to touch it until an explicit repair. */
  Quarantine: 'WAL_QUARANTINE',
  /** An offset is below the earliest retained record or beyond the head. */
  OffsetOutOfRange: 'WAL_OFFSET_OUT_OF_RANGE',
  /** An offset lies inside a record instead of at its start. */
  NotRecordBoundary: 'WAL_NOT_RECORD_BOUNDARY',
  /** A payload is larger than the journal's maxPayloadBytes. */
  RecordTooLarge: 'WAL_RECORD_TOO_LARGE',
  /**
   * The log holds a valid record larger than the maxPayloadBytes it was opened
   * with; nothing was changed. Reopen with a larger maxPayloadBytes.
   */
  MaxPayloadTooSmall: 'WAL_MAX_PAYLOAD_TOO_SMALL',
  /** Another process holds the writer lock of the directory. */
  Locked: 'WAL_LOCKED',
  /** The journal was closed. */
  Closed: 'WAL_CLOSED',
  /** A sync failed earlier; the journal refuses writes until reopened. */
  FailedState: 'WAL_FAILED_STATE',
  /** A write failed (ENOSPC, EIO, short write); the batch was rolled back. */
  WriteFailed: 'WAL_WRITE_FAILED',
  /** The journal was opened read-only and a write was asked for. */
  ReadOnly: 'WAL_READ_ONLY',
  /** An operating-system I/O error that fits no other code. */
  Io: 'WAL_IO',
  /** A backup or restore was pointed at a place it must not write: the journal itself, inside it, a non-empty directory that is no backup, a journal. Nothing was changed. */
  BackupTarget: 'WAL_BACKUP_TARGET',
  /** The directory named as a backup holds no backup manifest. */
  NotABackup: 'WAL_NOT_A_BACKUP',
  /** A file of a backup is missing, of the wrong size, or fails its checksum (or the manifest itself is damaged). */
  BackupDamaged: 'WAL_BACKUP_DAMAGED',
  /** What a backup read does not fit together (a segment gone between listing and copy, a position beyond the head); nothing was reported as backed up. Run it again. */
  BackupInconsistent: 'WAL_BACKUP_INCONSISTENT',
} as const;

export type WalErrorCode = (typeof WalErrorCodes)[keyof typeof WalErrorCodes];

/** The category of each code: a new code without one does not compile. */
const WalErrorCategories: Readonly<Record<WalErrorCode, ErrorCategory>> = {
  WAL_INVALID_ARGUMENT: 'invalid-input',
  WAL_NOT_A_JOURNAL: 'not-found',
  WAL_BAD_SEGMENT_HEADER: 'corrupt',
  WAL_SEGMENT_GAP: 'corrupt',
  WAL_CORRUPT_RECORD: 'corrupt',
  WAL_QUARANTINE: 'corrupt',
  // the position or payload the caller gave does not fit the log
  WAL_OFFSET_OUT_OF_RANGE: 'invalid-input',
  WAL_NOT_RECORD_BOUNDARY: 'invalid-input',
  WAL_RECORD_TOO_LARGE: 'invalid-input',
  // the limit the caller opened with is below the log's records: fixed by an option
  WAL_MAX_PAYLOAD_TOO_SMALL: 'invalid-input',
  WAL_LOCKED: 'conflict',
  WAL_CLOSED: 'state',
  WAL_FAILED_STATE: 'state',
  WAL_WRITE_FAILED: 'io',
  WAL_READ_ONLY: 'state',
  WAL_IO: 'io',
  WAL_BACKUP_TARGET: 'invalid-input',
  WAL_NOT_A_BACKUP: 'not-found',
  WAL_BACKUP_DAMAGED: 'corrupt',
  WAL_BACKUP_INCONSISTENT: 'state',
};

export class WalError extends EpistemeError<WalErrorCode> {
  constructor(code: WalErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, WalErrorCategories[code], message, options);
  }
}

/** An EpistemeError of this package (a `WAL_*` code), and when `code` is given, of that code. */
export function isWalError(err: unknown, code?: WalErrorCode): err is WalError {
  return isEpistemeError(err, code) && err.code.startsWith('WAL_');
}

export class InvalidArgumentError extends WalError {
  constructor(message: string) {
    super(WalErrorCodes.InvalidArgument, message);
  }
}

export class NotAJournalError extends WalError {
  constructor(readonly dir: string, reason: string, options?: { cause?: unknown }) {
    super(WalErrorCodes.NotAJournal, `${dir} is not a journal directory: ${reason}`, options);
  }
}

/** Why a record or segment is invalid. Stable strings, used in reports and JSON. */
export type CutReason =
  | 'torn-header'
  | 'torn-payload'
  | 'length-over-limit'
  | 'crc-mismatch'
  | 'blake3-mismatch'
  | 'bad-segment-header'
  | 'segment-gap'
  | 'after-cut';

export interface DamageLocation {
  /** Segment file name, e.g. `0000000000000000.wal`. */
  segment: string;
  /** Byte position inside the segment file. */
  position: number;
  /** Global offset of the damaged record (or of the segment's base). */
  offset: number;
  reason: CutReason;
}

export class BadSegmentHeaderError extends WalError {
  constructor(readonly segment: string, detail: string) {
    super(WalErrorCodes.BadSegmentHeader, `segment ${segment}: bad header: ${detail}`);
  }
}

export class CorruptRecordError extends WalError {
  constructor(readonly location: DamageLocation, detail?: string) {
    super(
      WalErrorCodes.CorruptRecord,
      `corrupt record in ${location.segment} at file position ${location.position} ` +
        `(offset ${location.offset}): ${location.reason}${detail ? `: ${detail}` : ''}`,
    );
  }
}

/**
 * The repair command a QuarantineError's message names; a CLI that runs the
 * same command under another name (the app's `episteme wal recover`, on its
 * own journal) replaces it with what its user types.
 */
export const REPAIR_COMMAND = 'episteme-wal recover --repair <dir>';

/**
 * Sealed data is damaged (or the header of the last segment, beyond what a
 * torn create leaves). Open refuses and nothing on disk was changed; an
 * explicit repair (`repair: true`, `episteme-wal recover --repair`) moves
 * everything from the damaged point to the end of the log into quarantine.
 */
export class QuarantineError extends WalError {
  readonly segment: string;
  readonly position: number;
  readonly offset: number;
  readonly reason: CutReason;

  /** `lastSegment`: the damage is in the last segment (its header), which is not sealed. */
  constructor(location: DamageLocation, detail?: string, lastSegment = false) {
    super(
      WalErrorCodes.Quarantine,
      `${lastSegment ? 'the last segment' : 'sealed segment'} ${location.segment} is damaged at file position ${location.position} ` +
        `(offset ${location.offset}): ${location.reason}${detail ? ` (${detail})` : ''}; ` +
        `nothing was changed; repair with \`${REPAIR_COMMAND}\` ` +
        `to quarantine everything from there to the end of the log`,
    );
    this.segment = location.segment;
    this.position = location.position;
    this.offset = location.offset;
    this.reason = location.reason;
  }
}

export class OffsetOutOfRangeError extends WalError {
  constructor(readonly offset: number, readonly earliest: number, readonly head: number) {
    super(
      WalErrorCodes.OffsetOutOfRange,
      `offset ${offset} is outside the retained log [${earliest}, ${head}]`,
    );
  }
}

export class NotRecordBoundaryError extends WalError {
  constructor(readonly offset: number) {
    super(WalErrorCodes.NotRecordBoundary, `offset ${offset} is not the start of a record`);
  }
}

export class RecordTooLargeError extends WalError {
  constructor(readonly size: number, readonly limit: number) {
    super(
      WalErrorCodes.RecordTooLarge,
      `payload of ${size} bytes exceeds maxPayloadBytes (${limit})`,
    );
  }
}

/**
 * A record longer than maxPayloadBytes is whole and both its checksums
 * verify: it was written under a larger limit, so it is data, not damage.
 * Cutting it would throw acknowledged records away, so open refuses instead.
 */
export class MaxPayloadTooSmallError extends WalError {
  readonly segment: string;
  readonly position: number;
  readonly offset: number;

  constructor(location: Omit<DamageLocation, 'reason'>, readonly payloadLength: number, readonly limit: number) {
    super(
      WalErrorCodes.MaxPayloadTooSmall,
      `${location.segment} holds a valid record of ${payloadLength} payload bytes at file position ${location.position} ` +
        `(offset ${location.offset}), more than maxPayloadBytes (${limit}); nothing was changed; ` +
        `reopen with maxPayloadBytes (CLI: --max-payload-bytes) of at least ${payloadLength}`,
    );
    this.segment = location.segment;
    this.position = location.position;
    this.offset = location.offset;
  }
}

export class IoError extends WalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(WalErrorCodes.Io, message, options);
  }
}

/** Wraps an fs error with what we were doing, keeping the errno code visible. */
export function ioError(action: string, path: string, cause: unknown): IoError {
  const errno = codeOf(cause);
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new IoError(`${action} ${path} failed${errno ? ` (${errno})` : ''}: ${msg}`, { cause });
}

/** Who holds a writer lock, as written in the lock file. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  since: string;
}

export class LockedError extends WalError {
  constructor(readonly dir: string, readonly holder: LockHolder | undefined) {
    super(WalErrorCodes.Locked, lockedMessage(dir, holder));
  }
}

/**
 * Who holds the lock, in the words a user acts on: a writer of this very
 * process (a second open of the same journal, the usual mistake: use the one
 * open, or close it first) is not "another writer".
 */
function lockedMessage(dir: string, holder: LockHolder | undefined): string {
  if (holder === undefined) return `journal ${dir} is locked by another writer (holder unknown)`;
  if (holder.pid === process.pid && holder.hostname === hostname()) {
    return `journal ${dir} is already open for writing in this process (pid ${holder.pid}, since ${holder.since}): use that writer, or close it first`;
  }
  return `journal ${dir} is locked by another writer (pid ${holder.pid} on ${holder.hostname}, since ${holder.since})`;
}

export class ClosedError extends WalError {
  constructor() {
    super(WalErrorCodes.Closed, 'the journal is closed');
  }
}

/**
 * A sync failed (or a rollback could not be made durable): what the OS
 * dropped cannot be known, so the journal refuses every write until it is
 * reopened, which re-runs recovery (the lesson of PostgreSQL's fsync failure
 * handling).
 */
export class FailedStateError extends WalError {
  constructor(cause: unknown) {
    super(
      WalErrorCodes.FailedState,
      `the journal is in a failed state after a failed sync, rollback or check of its last segment (${describe(cause)}); close() it and open it again to recover (an append that failed with it may be in the log after that)`,
      { cause },
    );
  }
}

/** A write failed or was short; the file was rolled back to the last record boundary. */
export class WriteFailedError extends WalError {
  constructor(cause: unknown) {
    super(WalErrorCodes.WriteFailed, `append failed and was rolled back: ${describe(cause)}`, { cause });
  }
}

export class ReadOnlyError extends WalError {
  constructor(what: string) {
    super(WalErrorCodes.ReadOnly, `${what} is not allowed on a journal opened read-only`);
  }
}

function describe(cause: unknown): string {
  const code = codeOf(cause);
  const msg = cause instanceof Error ? cause.message : String(cause);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/**
 * Runs `fn` and turns any error that is not already a WalError (an errno from
 * a read deep inside a scan, say) into an IoError, so that the public entry
 * points only ever throw typed errors.
 */
export function withTypedErrors<T>(action: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isWalError(err)) throw err;
    throw ioError(action, path, err);
  }
}
