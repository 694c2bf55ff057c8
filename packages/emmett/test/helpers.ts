import type { EventStore } from '@episteme/store';
import { tempDir as storeTempDir } from '../../store/test/helpers.js';

/** A fresh temp directory, removed after the test (the store tests' helper). */
export const tempDir = (prefix = 'episteme-emmett-'): string => storeTempDir(prefix);

export { snapshotDir } from '../../wal/test/helpers.js';
export { seededRandom } from '../../store/test/rng.js';

/**
 * `inner` seen only through @episteme/store's EventStore interface (what the
 * cluster's store is to the adapter): none of the embedded store's extras.
 */
export function interfaceOnly(inner: EventStore, close: () => Promise<void> = () => inner.close()): EventStore {
  return {
    appendToStream: (s, e, o) => inner.appendToStream(s, e, o),
    readStream: (s, o) => inner.readStream(s, o),
    aggregateStream: (s, o) => inner.aggregateStream(s, o),
    streamExists: (s) => inner.streamExists(s),
    readAll: (p) => inner.readAll(p),
    deleteStream: (s, o) => inner.deleteStream(s, o),
    close,
  };
}
