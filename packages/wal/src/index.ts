/**
 * @episteme/wal: the crash-safe write-ahead log of Episteme.
 * On-disk format: FORMAT.md (v2). Public surface: this barrel.
 */
export * from './errors.js';
export * from './format/index.js';
export { checksums, setChecksums, fastChecksums, crc32cJs, type Checksums } from './checksum/index.js';
export { referenceChecksums } from './checksum/reference.js';
export { setChecksumOffload, warmChecksumOffload } from './checksum/offload.js';
export { nodeFileIO, readFully, writeFully, type FileIO } from './io/fileIO.js';
export { replaceFileAtomically, isAtomicTempFile } from './io/atomicFile.js';
export { createDirectories } from './io/directories.js';
// for the other packages: moves behind @episteme/wal/internals once that entry exists
export * from './shared/index.js';
export * from './recovery/index.js';
export { Journal, type AppendOptions } from './journal/journal.js';
export type { JournalRecord } from './journal/journalReader.js';
export type * from './log/index.js';
export { DEFAULT_OPTIONS, type JournalOptions, type Durability, type GroupCommitOptions } from './journal/options.js';
export { SegmentManager, type Segment } from './journal/segmentManager.js';
export { LOCK_FILE } from './journal/writerLock.js';
export { PUBLISHED_HEAD_FILE, readPublishedHead } from './journal/publishedHead.js';
