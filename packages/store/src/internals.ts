/**
 * @episteme/store/internals: what the CLIs, the benchmarks and the torture
 * tests use of the store's inner parts: the commit codec, the checkpoint
 * file's place, and a check of a log's streams made without the store.
 *
 * UNSTABLE: no semver promise. An application imports from `@episteme/store`.
 */
export { decodeHeader, decodeEvents, dataOf, metadataOf, type CommitHeader, type StoredEvent } from './commit/decodeCommit.js';
export { encodeCommit, encodeTombstone, prepareCommit, type PreparedCommit, type PreparedEvent } from './commit/encodeCommit.js';
export { KIND_COMMIT, KIND_TOMBSTONE, COMMIT_HEADER_SIZE } from './commit/layout.js';
export { STORE_DIR, CHECKPOINT_FILE, checkpointPath } from './index/checkpoint.js';
export { checkStreams, type StreamsCheck } from './checkStreams.js';
