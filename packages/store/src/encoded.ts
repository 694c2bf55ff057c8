/**
 * @episteme/store/encoded: commits encoded ahead of their append, for a
 * thread that prepares them and does not hold the store (an import's
 * worker). Loads only the codec and the errors, not the store or the
 * journal (a worker starts faster). The same classes as the main entry's.
 */
export { EncodedCommitsBuilder, eventsOfEncoded, type EncodedCommits } from './commit/encodedCommits.js';
export { isStoreError, StoreErrorCodes } from './errors.js';
