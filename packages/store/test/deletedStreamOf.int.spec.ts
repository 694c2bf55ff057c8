import { describe, expect, it } from 'vitest';
import { deletedStreamOf, isStoreError, openEventStore, StoreErrorCodes } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('deletedStreamOf: what a read model keyed by stream learns of a tombstone', () => {
  it('names the stream of a tombstone, nothing for a commit, and refuses a record that is neither', async () => {
    const store = await openEventStore({ dir: tempDir() });
    try {
      await store.appendToStream('cart-1', [{ type: 'A', data: 1 }]);
      await store.deleteStream('cart-1');
      const [commit, tombstone] = store.log.readMany(0, 10);
      expect(deletedStreamOf(commit!)).toBeUndefined();
      expect(deletedStreamOf(tombstone!)).toBe('cart-1');
      let err: unknown;
      try {
        deletedStreamOf({ offset: 0, payload: Buffer.from('{"not":"a commit"}') });
      } catch (e) {
        err = e;
      }
      expect(isStoreError(err, StoreErrorCodes.CorruptCommit)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
