/**
 * @episteme/wal: the crash-safe write-ahead log of Episteme.
 *
 * This entry is what an application uses: the writer and the reader, their
 * options, the log interface they implement, recovery and verification, and
 * the errors an application catches. What the CLIs, the benchmarks and the
 * torture tests need of the internals (segment scanners, the record codec,
 * recovery-point files, checksum providers) is in `@episteme/wal/internals`,
 * without a stability promise. On-disk format: docs/FORMAT.md (v2).
 */

// the journal: the writer, a reader in another process, and their options
export { Journal, type AppendOptions } from './journal/journal.js';
export { JournalReader } from './journal/journalReader.js';
export { transientReadBuffer } from './journal/recordChunks.js';
export type { JournalRecord } from './journal/recordReader.js';
export { DEFAULT_OPTIONS, type JournalOptions, type JournalReaderOptions, type Durability, type GroupCommitOptions, type VerifyOnRead } from './journal/options.js';
export type * from './log/index.js';
export { JOURNAL, JOURNAL_READER } from './di.js';
export type { TelemetryOptions } from './telemetry/otelApi.js';

// recovery and verification of a directory (what `open` runs, and the offline check)
export { recoverJournal, type RecoverOptions } from './recovery/recover.js';
export { verifyJournal, type VerifyOptions } from './recovery/verify.js';
export type { RecoveryCut, RecoveryReport, SegmentSummary, VerifyProblem, VerifyReport, ScanProgress } from './recovery/report.js';

// online backup and restore (docs/operations.md)
export {
  backupJournal,
  restoreBackup,
  readManifest,
  MANIFEST_FILE,
  BackupTargetError,
  NotABackupError,
  BackupDamagedError,
  BackupInconsistentError,
  type BackupOptions,
  type BackupProgress,
  type BackupReport,
  type RestoreOptions,
  type RestoreReport,
  type Manifest,
  type ManifestEntry,
  type StatePositions,
} from './backup/index.js';

// tuning: checksum verification on a worker thread (README: performance)
export { setChecksumOffload, warmChecksumOffload } from './checksum/offload.js';
export { nativeRecordCheck } from './checksum/recordRun.js';

// the file-system seam (tests inject faults through it) and durable directories for an app's own files
export { nodeFileIO, type FileIO } from './io/fileIO.js';
export { createDirectories } from './io/directories.js';

// the errors an application catches: by class, or by stable code with isEpistemeError (any package's)
export {
  EpistemeError,
  isEpistemeError,
  exitCodeOfCategory,
  type ErrorCategory,
  WalErrorCodes,
  WalError,
  isWalError,
  InvalidArgumentError,
  NotAJournalError,
  BadSegmentHeaderError,
  CorruptRecordError,
  QuarantineError,
  OffsetOutOfRangeError,
  NotRecordBoundaryError,
  RecordTooLargeError,
  MaxPayloadTooSmallError,
  IoError,
  LockedError,
  ClosedError,
  FailedStateError,
  WriteFailedError,
  type WalErrorCode,
  type CutReason,
  type DamageLocation,
  type LockHolder,
} from './errors.js';
