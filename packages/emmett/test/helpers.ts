import { tempDir as storeTempDir } from '../../store/test/helpers.js';

/** A fresh temp directory, removed after the test (the store tests' helper). */
export const tempDir = (prefix = 'episteme-emmett-'): string => storeTempDir(prefix);

export { snapshotDir } from '../../wal/test/helpers.js';
export { seededRandom } from '../../store/test/rng.js';
