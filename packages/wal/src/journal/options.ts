import { InvalidArgumentError } from '../errors.js';
import { checkOptionKeys } from '../optionKeys.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { nodeFileIO, type FileIO } from '../io/fileIO.js';
import { JournalTelemetry } from '../telemetry/journalTelemetry.js';
import type { TelemetryOptions } from '../telemetry/otelApi.js';

/**
 * `immediate`: an append resolves once its bytes are synced to disk.
 * `none`: once the write reached the OS; synced on rotation, sync() and close(),
 * and in the background every `writebackBytes` written.
 */
export type Durability = 'immediate' | 'none';

/** What a read checks of each record: its CRC32C (`'crc'`), or its CRC32C and BLAKE3 (`'full'`). */
export type VerifyOnRead = 'crc' | 'full';

export interface GroupCommitOptions {
  /** Most records written by one write+sync (default 4096). */
  maxBatchRecords?: number;
  /** Most bytes written by one write+sync (default 8 MiB). */
  maxBatchBytes?: number;
  /**
   * How long a flush waits for more appends before it starts (default 0: a
   * flush starts at once, and appends that arrive while it syncs form the
   * next batch, which is where the batching comes from under load).
   */
  maxDelayMs?: number;
}

export interface JournalOptions {
  dir: string;
  /** Default durability of appends (default `immediate`). */
  durability?: Durability;
  /** Opt-in group commit: concurrent appends share one write and one sync. */
  groupCommit?: boolean | GroupCommitOptions;
  /**
   * A segment is rotated before a record would take it past this size
   * (default 64 MiB). One `appendBatch` is one write and is never split: a
   * batch that does not fit starts a new segment and may take that one past
   * the limit (as a single record larger than the limit does).
   */
  maxSegmentBytes?: number;
  /** Larger payloads are refused with RecordTooLargeError (default 16 MiB). */
  maxPayloadBytes?: number;
  /**
   * Zero bytes written ahead of the records of the active segment, so that a
   * sync overwrites allocated space instead of growing the file (one metadata
   * update saved per sync). 0 turns it off. Default 1 MiB.
   */
  preallocateBytes?: number;
  /**
   * Appends that wait for no sync (durability `none`) are synced in the
   * background, on the thread pool, every this many bytes written: a power
   * loss takes at most about this much, and rotation and close() have little
   * left to flush (RocksDB's `wal_bytes_per_sync`). 0 turns it off. Default
   * 8 MiB.
   */
  writebackBytes?: number;
  /** Quarantine damaged sealed data on open instead of refusing (see recoverJournal). */
  repair?: boolean;
  /**
   * Which sealed segments open verifies record by record: `'unverified'`
   * (default) those that no earlier open verified and this journal did not
   * seal itself (see RECOVERY_POINT), `true` all of them, `false` none. The
   * last segment is scanned too, record by record with `true` and `false`;
   * with `'unverified'` not after a clean close whose size and CRC32C it
   * still matches, and after a crash only past the synced prefix whose
   * CRC32C still matches. Every read checks its record anyway.
   */
  scanSealedOnOpen?: boolean | 'unverified';
  /**
   * What a read checks of every record it hands out (FORMAT.md, "What a
   * read checks"): `'crc'` (default) its CRC32C, which covers every other
   * byte of the record (length, BLAKE3 field, payload), so any damage fails
   * the read; `'full'` also recomputes the payload's BLAKE3 and compares it
   * with the stored one (the content address). Recovery and verification
   * always check both.
   */
  verifyOnRead?: VerifyOnRead;
  /** How often a follower waiting at the head re-checks the files when no change event came (default 250 ms). */
  pollIntervalMs?: number;
  /** The file-system seam; tests inject faults here. */
  io?: FileIO;
  /**
   * Metrics and spans through `@opentelemetry/api` (docs/operations.md,
   * "Metrics and traces"): the global providers by default, these when
   * given, none with `false`. Without an SDK registered when the journal
   * opens (or without the API installed) nothing is measured.
   */
  telemetry?: TelemetryOptions | false;
  /**
   * Where cleanup (`deleteBelow`) moves whole sealed segments instead of
   * deleting them (docs/operations.md, "Archive"). The writer reads them
   * from there: `earliest` stays where the archive begins, and a rebuild
   * from offset 0 reads through it. A reader in another process reads
   * through it when opened with the same `archiveDir`.
   */
  archiveDir?: string;
}

/**
 * What a reader in another process is opened with (`Journal.openForRead`).
 * The writer's options (durability, segment sizes, ...) mean nothing to it:
 * a `JournalOptions` may be passed as it is, and they are ignored.
 */
export type JournalReaderOptions = Pick<JournalOptions, 'dir' | 'maxPayloadBytes' | 'pollIntervalMs' | 'verifyOnRead' | 'io' | 'archiveDir'>;

export interface ResolvedOptions {
  dir: string;
  durability: Durability;
  groupCommit: Required<GroupCommitOptions> | undefined;
  maxSegmentBytes: number;
  maxPayloadBytes: number;
  preallocateBytes: number;
  writebackBytes: number;
  repair: boolean;
  scanSealedOnOpen: boolean | 'unverified';
  pollIntervalMs: number;
  verifyOnRead: VerifyOnRead;
  io: FileIO;
  /** Undefined when nothing collects metrics or spans. */
  telemetry: JournalTelemetry | undefined;
  archiveDir: string | undefined;
}

/** Frozen: a caller changing them would change every later open in the process. */
export const DEFAULT_OPTIONS = Object.freeze({
  durability: 'immediate' as Durability,
  maxSegmentBytes: 64 * 1024 * 1024,
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  preallocateBytes: 1024 * 1024,
  writebackBytes: 8 * 1024 * 1024,
  groupCommit: Object.freeze({ maxBatchRecords: 4096, maxBatchBytes: 8 * 1024 * 1024, maxDelayMs: 0 }),
  pollIntervalMs: 250,
  verifyOnRead: 'crc' as VerifyOnRead,
});

/** Every key of JournalOptions, each listed once (the compiler refuses a missing or an extra one): what Journal.open takes. */
const JOURNAL_KEYS: Record<keyof JournalOptions, true> = {
  dir: true,
  durability: true,
  groupCommit: true,
  maxSegmentBytes: true,
  maxPayloadBytes: true,
  preallocateBytes: true,
  writebackBytes: true,
  repair: true,
  scanSealedOnOpen: true,
  verifyOnRead: true,
  pollIntervalMs: true,
  io: true,
  telemetry: true,
  archiveDir: true,
};
export const JOURNAL_OPTION_KEYS: readonly string[] = Object.freeze(Object.keys(JOURNAL_KEYS));
const GROUP_COMMIT_KEYS: Record<keyof GroupCommitOptions, true> = { maxBatchRecords: true, maxBatchBytes: true, maxDelayMs: true };
const GROUP_COMMIT_OPTION_KEYS: readonly string[] = Object.keys(GROUP_COMMIT_KEYS);

export type ResolvedReaderOptions = Required<Omit<JournalReaderOptions, 'io' | 'archiveDir'>> & { io: FileIO; archiveDir: string | undefined };

export function resolveReaderOptions(options: JournalReaderOptions): ResolvedReaderOptions {
  checkDir(options, 'Journal.openForRead');
  // a writer's options may be passed as they are (they mean nothing to a reader): any other key is a mistake
  checkOptionKeys('Journal.openForRead', options, JOURNAL_OPTION_KEYS);
  const maxPayloadBytes = positiveInt('maxPayloadBytes', options.maxPayloadBytes ?? DEFAULT_OPTIONS.maxPayloadBytes);
  if (maxPayloadBytes > 0xffffffff) throw new InvalidArgumentError('maxPayloadBytes cannot exceed 2^32-1 (the length field is a u32)');
  return {
    dir: options.dir,
    maxPayloadBytes,
    pollIntervalMs: timerMs('pollIntervalMs', options.pollIntervalMs ?? DEFAULT_OPTIONS.pollIntervalMs, 1),
    verifyOnRead: verifyOnReadOf(options.verifyOnRead),
    io: options.io ?? nodeFileIO,
    archiveDir: archiveDirOf(options.archiveDir),
  };
}

export function resolveOptions(options: JournalOptions): ResolvedOptions {
  checkDir(options, 'Journal.open');
  // the option that made one class both writer and reader: an old call must
  // not silently open a writer (recovery, a lock) where it asked for a reader
  if ((options as { readOnly?: unknown }).readOnly !== undefined) {
    throw new InvalidArgumentError('the readOnly option is gone: Journal.open opens the writer; open a reader in another process with Journal.openForRead(options)');
  }
  checkOptionKeys('Journal.open', options, JOURNAL_OPTION_KEYS);
  const durability = options.durability ?? DEFAULT_OPTIONS.durability;
  if (durability !== 'immediate' && durability !== 'none') {
    throw new InvalidArgumentError(`durability must be 'immediate' or 'none', not ${JSON.stringify(durability)}`);
  }
  const maxPayloadBytes = positiveInt('maxPayloadBytes', options.maxPayloadBytes ?? DEFAULT_OPTIONS.maxPayloadBytes);
  if (maxPayloadBytes > 0xffffffff) throw new InvalidArgumentError('maxPayloadBytes cannot exceed 2^32-1 (the length field is a u32)');
  const maxSegmentBytes = positiveInt('maxSegmentBytes', options.maxSegmentBytes ?? DEFAULT_OPTIONS.maxSegmentBytes);
  if (maxSegmentBytes < HEADER_SIZE + RECORD_OVERHEAD) {
    throw new InvalidArgumentError(`maxSegmentBytes must be at least ${HEADER_SIZE + RECORD_OVERHEAD}`);
  }
  let groupCommit: ResolvedOptions['groupCommit'];
  const gc: unknown = options.groupCommit;
  // 'false' or 1 from a config file must not turn group commit on (or silently off)
  if (gc !== undefined && typeof gc !== 'boolean' && (typeof gc !== 'object' || gc === null || Array.isArray(gc))) {
    throw new InvalidArgumentError(`groupCommit must be true, false or an object of batch limits, not ${JSON.stringify(gc) ?? String(gc)}`);
  }
  if (options.groupCommit) {
    const g = options.groupCommit === true ? {} : options.groupCommit;
    checkOptionKeys('groupCommit', g, GROUP_COMMIT_OPTION_KEYS);
    groupCommit = {
      maxBatchRecords: positiveInt('groupCommit.maxBatchRecords', g.maxBatchRecords ?? DEFAULT_OPTIONS.groupCommit.maxBatchRecords),
      maxBatchBytes: positiveInt('groupCommit.maxBatchBytes', g.maxBatchBytes ?? DEFAULT_OPTIONS.groupCommit.maxBatchBytes),
      maxDelayMs: timerMs('groupCommit.maxDelayMs', g.maxDelayMs ?? DEFAULT_OPTIONS.groupCommit.maxDelayMs, 0),
    };
  }
  return {
    dir: options.dir,
    durability,
    groupCommit,
    maxSegmentBytes,
    maxPayloadBytes,
    preallocateBytes: nonNegative('preallocateBytes', options.preallocateBytes ?? DEFAULT_OPTIONS.preallocateBytes),
    writebackBytes: nonNegative('writebackBytes', options.writebackBytes ?? DEFAULT_OPTIONS.writebackBytes),
    repair: flag('repair', options.repair),
    scanSealedOnOpen: scanSealedOnOpenOf(options.scanSealedOnOpen),
    pollIntervalMs: timerMs('pollIntervalMs', options.pollIntervalMs ?? DEFAULT_OPTIONS.pollIntervalMs, 1),
    verifyOnRead: verifyOnReadOf(options.verifyOnRead),
    io: options.io ?? nodeFileIO,
    telemetry: JournalTelemetry.create(options.dir, options.telemetry),
    archiveDir: archiveDirOf(options.archiveDir),
  };
}

function archiveDirOf(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0')) throw new InvalidArgumentError(`archiveDir must be a non-empty path without NUL bytes, not ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function verifyOnReadOf(v: unknown): VerifyOnRead {
  if (v === undefined) return DEFAULT_OPTIONS.verifyOnRead;
  if (v !== 'crc' && v !== 'full') throw new InvalidArgumentError(`verifyOnRead must be 'crc' or 'full', not ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function checkDir(options: JournalReaderOptions, opener: string): void {
  if (!options || typeof options.dir !== 'string' || options.dir.length === 0) {
    throw new InvalidArgumentError(`${opener} needs a \`dir\` (a non-empty path)`);
  }
  if (options.dir.includes('\0')) throw new InvalidArgumentError('a journal path cannot contain a NUL byte');
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, not ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return v;
}

/** Node runs a timer of 2^31 ms or more after 1 ms (with a warning): a poll or delay that long would spin instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function timerMs(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > MAX_TIMER_MS) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${MAX_TIMER_MS} (ms), not ${String(v)}`);
  }
  return v;
}

/** A yes/no option: `'true'` from a config file is refused rather than read as false. */
function flag(name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${name} must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

function scanSealedOnOpenOf(v: unknown): ResolvedOptions['scanSealedOnOpen'] {
  if (v === undefined) return 'unverified';
  if (v !== true && v !== false && v !== 'unverified') throw new InvalidArgumentError(`scanSealedOnOpen must be true, false or 'unverified', not ${JSON.stringify(v)}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, not ${String(v)}`);
  return v;
}
