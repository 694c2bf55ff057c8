import { describe, expect, it } from 'vitest';
import { createEventDecoder, isStoreError, openEventStore, StoreErrorCodes } from '../src/index.js';
import { tempDir } from './helpers.js';

async function recordsOf(store: Awaited<ReturnType<typeof openEventStore>>) {
  const out = [];
  for await (const rec of store.log.readFrom(store.log.earliest)) out.push({ offset: rec.offset, payload: Buffer.from(rec.payload) });
  return out;
}

describe('the event decoder consumers and projections read a store with', () => {
  it('gives the events readAll gives, with the store upcasters, and none for a tombstone', async () => {
    const upcasters = { Old: (e: { data: unknown }) => ({ type: 'New', data: { wrapped: e.data } }) };
    const store = await openEventStore({ dir: tempDir(), upcasters });
    try {
      await store.appendToStream('order-1', [{ type: 'Old', data: 1 }, { type: 'Placed', data: 2 }]);
      await store.appendToStream('cart-1', [{ type: 'Placed', data: 3 }]);
      await store.deleteStream('cart-1');
      const all = [];
      for await (const e of store.readAll()) all.push(e);
      const recs = await recordsOf(store);
      expect(recs).toHaveLength(3);
      const decoded = recs.flatMap((r) => store.decoder().eventsOf(r));
      expect(decoded).toEqual(all);
      expect(decoded[0]).toMatchObject({ type: 'New', data: { wrapped: 1 }, stream: 'order-1', streamPosition: 1 });
      expect(store.decoder().eventsOf(recs[2]!)).toEqual([]);
      // a decoder made apart from the store, with the same upcasters, agrees
      expect(recs.flatMap((r) => createEventDecoder({ upcasters }).eventsOf(r))).toEqual(all);
    } finally {
      await store.close();
    }
  });

  it('filters by stream prefix and by type as read (after upcasting)', async () => {
    const store = await openEventStore({ dir: tempDir(), upcasters: { Old: (e) => ({ type: 'New', data: e.data }) } });
    try {
      await store.appendToStream('order-1', [{ type: 'Old', data: 1 }, { type: 'Shipped', data: 2 }]);
      await store.appendToStream('cart-1', [{ type: 'New', data: 3 }]);
      const recs = await recordsOf(store);
      const pick = (filter: object) => recs.flatMap((r) => store.decoder(filter).eventsOf(r)).map((e) => `${e.stream}:${e.type}`);
      expect(pick({ streamPrefix: 'order-' })).toEqual(['order-1:New', 'order-1:Shipped']);
      expect(pick({ types: ['New'] })).toEqual(['order-1:New', 'cart-1:New']);
      expect(pick({ types: ['Old'] })).toEqual([]);
      expect(pick({ streamPrefix: 'cart', types: ['New', 'Shipped'] })).toEqual(['cart-1:New']);
    } finally {
      await store.close();
    }
  });

  it('refuses a bad filter with a typed error', () => {
    for (const filter of [null, 'order-', { streamPrefix: '' }, { streamPrefix: '-x' }, { types: [] }, { types: ['a', 3] }, { types: 'a' }, { category: 'x' }]) {
      let caught: unknown;
      try {
        createEventDecoder({ filter: filter as never });
      } catch (err) {
        caught = err;
      }
      expect(isStoreError(caught) && caught.code === StoreErrorCodes.InvalidArgument, JSON.stringify(filter)).toBe(true);
    }
  });

  it('reports a record that is not a store commit as STORE_CORRUPT_COMMIT', () => {
    let caught: unknown;
    try {
      createEventDecoder().eventsOf({ offset: 0, payload: Buffer.from('{"not":"a commit"}') });
    } catch (err) {
      caught = err;
    }
    expect(isStoreError(caught) && caught.code).toBe(StoreErrorCodes.CorruptCommit);
  });
});
