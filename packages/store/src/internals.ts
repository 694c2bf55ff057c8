/**
 * @episteme/store/internals: what the CLIs, the benchmarks and the torture
 * tests use of the store's inner parts: the commit codec, the checkpoint
 * file's place, a check of a log's streams made without the store, and the
 * inspection pieces of the CLIs (a record described for `episteme-wal dump
 * --events`, the streams of a log read without the writer's lock).
 *
 * UNSTABLE: no semver promise. An application imports from `@episteme/store`.
 */
export { decodeHeader, decodeEvents, dataOf, metadataOf, type CommitHeader, type StoredEvent } from './commit/decodeCommit.js';
export { encodeCommit, encodeTombstone, prepareCommit, type PreparedCommit, type PreparedEvent } from './commit/encodeCommit.js';
export { KIND_COMMIT, KIND_TOMBSTONE, COMMIT_HEADER_SIZE } from './commit/layout.js';
export { STORE_DIR, CHECKPOINT_FILE, checkpointPath } from './index/checkpoint.js';
export { checkStreams, type StreamsCheck } from './checkStreams.js';
export { describeCommit, type CommitDescription, type DescribedEvent } from './inspect/describeCommit.js';
export { StreamsView, type StreamSummary, type StreamsViewOptions } from './inspect/streamsView.js';
export { describeValue } from './describeValue.js';
