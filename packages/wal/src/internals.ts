/**
 * @episteme/wal/internals: what the CLIs, the benchmarks, the torture tests
 * and the other packages' internals use of the log's inner parts: the record
 * and segment codec, segment scanners, recovery-point and published-head
 * files, checksum providers, raw file helpers.
 *
 * UNSTABLE: no semver promise. Anything here may change or go in any
 * release; an application imports from `@episteme/wal` only.
 */
export * from './format/index.js';
export { checksums, setChecksums, fastChecksums, portableChecksums, nativeRecordRun, crc32cJs, type Checksums, type VerifyRun } from './checksum/index.js';
export { referenceChecksums } from './checksum/reference.js';
export { readFully, writeFully } from './io/fileIO.js';
export { replaceFileAtomically, isAtomicTempFile } from './io/atomicFile.js';
export { copyOpenFile, crcOfOpenFile, crcHex, syncFiles } from './io/fileCopy.js';
export { checkRestoreTarget } from './backup/targets.js';
export { openVerified } from './backup/verifyBackup.js';
export { copyBackupFiles } from './backup/restore.js';
export { isFileEntry, readSealedJson } from './backup/manifest.js';
export { loadRecoveryPoint, readRecoveryPoint, writeRecoveryPoint, RECOVERY_POINT_FILE, type CleanClose, type RecoveryPoint, type SyncedPrefix, type TrustedSegments } from './recovery/recoveryPoint.js';
export { scanSegment, countWellFormed, rangeIsZero, type ScanOptions, type ScanResult, type RecordVisitor } from './recovery/scanSegment.js';
export { listSegmentFiles, checkSegmentHeader, type SegmentFile } from './recovery/segmentFiles.js';
export { inspectJournal, type Finding, type Inspection } from './recovery/inspect.js';
export { SegmentManager, type Segment } from './journal/segmentManager.js';
export { readManyContinuing, readRecordsAt, visitRecords } from './journal/journalBase.js';
export type { RecordBytesVisitor } from './journal/randomReads.js';
export { LOCK_FILE } from './journal/writerLock.js';
export { instrumentsFor, otelApi, Attr as TelemetryAttributes, SYSTEM as TELEMETRY_SYSTEM, type Instruments, type OtelApi } from './telemetry/otelApi.js';
export { PUBLISHED_HEAD_FILE, readPublishedHead } from './journal/publishedHead.js';
export { REPAIR_COMMAND, ReadOnlyError, ioError, withTypedErrors } from './errors.js';
// written once for every package: the checksummed-file envelope, errno helpers, sleep, process liveness, quiet closers
export * from './shared/index.js';
export { checkOptionKeys, unknownOptionKey, unknownOptionMessage } from './optionKeys.js';
export { JOURNAL_OPTION_KEYS } from './journal/options.js';
