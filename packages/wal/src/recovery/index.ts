export { recoverJournal, type RecoverOptions } from './recover.js';
export { verifyJournal, type VerifyOptions } from './verify.js';
export { loadRecoveryPoint, readRecoveryPoint, writeRecoveryPoint, RECOVERY_POINT_FILE, type CleanClose, type RecoveryPoint, type SyncedPrefix, type TrustedSegments } from './recoveryPoint.js';
export { scanSegment, countWellFormed, rangeIsZero, type ScanOptions, type ScanResult, type RecordVisitor } from './scanSegment.js';
export { listSegmentFiles, checkSegmentHeader, type SegmentFile } from './segmentFiles.js';
export { inspectJournal, type Finding, type Inspection } from './inspect.js';
export type { RecoveryCut, RecoveryReport, SegmentSummary, VerifyProblem, VerifyReport, ScanProgress } from './report.js';
