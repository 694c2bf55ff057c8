import { describe, expect, it } from 'vitest';
import { isStoreError, openEventStore, StoreErrorCodes, type Event } from '../src/index.js';
import { rmSync } from 'node:fs';
import { checkpointPath } from '../src/index/checkpoint.js';
import { tempDir } from './helpers.js';

type Opened = Event<'CartOpened', { cartId: string }>;
type ItemAdded = Event<'ItemAdded', { sku: string; qty: number }, { user: string }>;
type CartEvent = Opened | ItemAdded;

describe('appendToStream, readStream, aggregateStream', () => {
  it('appends a commit, reads it back in stream order with positions, and folds it', async () => {
    const store = await openEventStore({ dir: tempDir() });
    const first = await store.appendToStream<CartEvent>('cart-1', [
      { type: 'CartOpened', data: { cartId: 'c1' } },
      { type: 'ItemAdded', data: { sku: 'a', qty: 2 }, metadata: { user: 'u1' } },
    ], { expectedVersion: 'no_stream' });
    expect(first).toMatchObject({ nextExpectedVersion: 2, createdStream: true });
    expect(first.alreadyAppended).toBeUndefined();
    const second = await store.appendToStream<CartEvent>('cart-1', [{ type: 'ItemAdded', data: { sku: 'b', qty: 1 }, metadata: { user: 'u2' } }], { expectedVersion: 2 });
    expect(second).toMatchObject({ nextExpectedVersion: 3, createdStream: false });
    expect(second.globalPosition).toBeGreaterThan(first.globalPosition);

    const read = await store.readStream<CartEvent>('cart-1');
    expect(read.currentVersion).toBe(3);
    expect(read.streamExists).toBe(true);
    expect(read.events.map((e) => [e.streamPosition, e.type])).toEqual([[1, 'CartOpened'], [2, 'ItemAdded'], [3, 'ItemAdded']]);
    expect(read.events[2]!.globalPosition).toBe(second.globalPosition);
    expect(read.events[1]!.metadata).toEqual({ user: 'u1' });
    expect(read.events[0]!.metadata).toBeUndefined();
    expect(read.events[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const part = await store.readStream('cart-1', { from: 2, maxCount: 1 });
    expect(part.events.map((e) => e.streamPosition)).toEqual([2]);
    expect((await store.readStream('cart-1', { from: 3, to: 9 })).events.map((e) => e.streamPosition)).toEqual([3]);

    const { state, currentVersion } = await store.aggregateStream<number, CartEvent>('cart-1', {
      initialState: () => 0,
      evolve: (qty, e) => {
        switch (e.type) {
          case 'ItemAdded':
            return qty + e.data.qty; // narrowed by the union
          case 'CartOpened':
            return qty;
        }
      },
    });
    expect([state, currentVersion]).toEqual([3, 3]);
    expect(await store.streamExists('cart-1')).toBe(true);
    expect(await store.streamExists('cart-2')).toBe(false);
    expect(await store.readStream('cart-2')).toEqual({ events: [], currentVersion: 0, streamExists: false });
    await store.close();
  });

  it('checks every kind of expected version and names the actual version in a conflict', async () => {
    const store = await openEventStore({ dir: tempDir() });
    const ev = [{ type: 't', data: {} }];
    const conflict = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    let err = await conflict(store.appendToStream('s', ev, { expectedVersion: 'stream_exists' }));
    expect(isStoreError(err, StoreErrorCodes.VersionConflict)).toBe(true);
    expect(err).toMatchObject({ stream: 's', expected: 'stream_exists', actual: 0, category: 'conflict' });
    await store.appendToStream('s', ev, { expectedVersion: 0 });
    err = await conflict(store.appendToStream('s', ev, { expectedVersion: 'no_stream' }));
    expect(err).toMatchObject({ code: 'STORE_VERSION_CONFLICT', actual: 1 });
    err = await conflict(store.appendToStream('s', ev, { expectedVersion: 5 }));
    expect(err).toMatchObject({ code: 'STORE_VERSION_CONFLICT', expected: 5, actual: 1 });
    expect(await store.appendToStream('s', ev, { expectedVersion: 'stream_exists' })).toMatchObject({ nextExpectedVersion: 2 });
    expect(await store.appendToStream('s', ev)).toMatchObject({ nextExpectedVersion: 3 });
    await store.close();
  });

  it('readAll yields every event in global order from a position, including from inside a commit', async () => {
    const store = await openEventStore({ dir: tempDir() });
    await store.appendToStream('a', [{ type: 'x', data: 1 }, { type: 'x', data: 2 }]);
    await store.appendToStream('b', [{ type: 'y', data: 3 }]);
    await store.appendToStream('a', [{ type: 'x', data: 4 }, { type: 'x', data: 5 }, { type: 'x', data: 6 }]);
    const all = [];
    for await (const e of store.readAll()) all.push(e);
    expect(all.map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const positions = all.map((e) => e.globalPosition);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    expect(new Set(positions).size).toBe(6);
    const fromInside = [];
    for await (const e of store.readAll(all[4]!.globalPosition)) fromInside.push(e.data);
    expect(fromInside).toEqual([5, 6]);
    const afterLast = [];
    for await (const e of store.readAll(all[5]!.globalPosition + 1)) afterLast.push(e);
    expect(afterLast).toEqual([]);
    await store.close();
  });

  it('stores bytes as they are and runs upcasters on read', async () => {
    const dir = tempDir();
    let store = await openEventStore({ dir });
    await store.appendToStream('u', [
      { type: 'NameSet.v1', data: { name: 'Ada Lovelace' } },
      { type: 'Blob', data: new Uint8Array([1, 2, 3]) },
      { type: 'Renamed.v0', data: 'Grace Hopper', metadata: { by: 'ops' } },
    ]);
    await store.close();
    store = await openEventStore({
      dir,
      upcasters: {
        'NameSet.v1': (e) => {
          const [first, last] = (e.data as { name: string }).name.split(' ');
          return { type: 'NameSet', data: { first, last }, metadata: { upcastFrom: 'v1' } };
        },
        // a chain: v0 to v1 (metadata kept), then v1 to the current type
        'Renamed.v0': (e) => ({ type: 'NameSet.v1', data: { name: e.data as string } }),
      },
    });
    const { events } = await store.readStream('u');
    expect(events[0]).toMatchObject({ type: 'NameSet', data: { first: 'Ada', last: 'Lovelace' }, metadata: { upcastFrom: 'v1' } });
    expect(events[1]!.data).toEqual(new Uint8Array([1, 2, 3]));
    expect(events[2]).toMatchObject({ type: 'NameSet', data: { first: 'Grace', last: 'Hopper' }, metadata: { upcastFrom: 'v1' } });
    const all = [];
    for await (const e of store.readAll()) all.push(e.type);
    expect(all).toEqual(['NameSet', 'Blob', 'NameSet']);
    await store.close();
  });

  it('deleteStream hides the stream; appending again needs recreate and starts at version 1', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir });
    await store.appendToStream('d', [{ type: 't', data: 1 }, { type: 't', data: 2 }]);
    expect(isStoreError(await store.deleteStream('never').catch((e: unknown) => e), StoreErrorCodes.StreamNotFound)).toBe(true);
    expect(isStoreError(await store.deleteStream('d', { expectedVersion: 1 }).catch((e: unknown) => e), StoreErrorCodes.VersionConflict)).toBe(true);
    await store.deleteStream('d', { expectedVersion: 2 });
    const twice = await store.deleteStream('d').catch((e: unknown) => e);
    expect(isStoreError(twice, StoreErrorCodes.StreamDeleted)).toBe(true);
    expect((twice as Error).message).toBe('stream "d" is already deleted; nothing was written');
    expect(await store.streamExists('d')).toBe(false);
    expect(await store.readStream('d')).toMatchObject({ events: [], currentVersion: 0, streamExists: false });
    const err = await store.appendToStream('d', [{ type: 't', data: 3 }], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);
    expect(isStoreError(err, StoreErrorCodes.StreamDeleted)).toBe(true);
    expect((err as Error).message).toBe('stream "d" was deleted; append with { recreate: true } to start it again');
    const again = await store.appendToStream('d', [{ type: 't', data: 3 }], { expectedVersion: 'no_stream', recreate: true });
    expect(again).toMatchObject({ nextExpectedVersion: 1, createdStream: true });
    expect((await store.readStream('d')).events.map((e) => e.data)).toEqual([3]);
    await store.deleteStream('d');
    await store.close();
    // the tombstones are in the log: a reopen, and a rebuild from the log, see the stream deleted
    for (const rebuild of [false, true]) {
      if (rebuild) rmSync(checkpointPath(dir));
      const again = await openEventStore({ dir });
      expect(again.openStats.source).toBe(rebuild ? 'missing' : 'checkpoint');
      expect(await again.streamExists('d')).toBe(false);
      expect((await again.appendToStream('d', [{ type: 't', data: 4 }], { recreate: true })).nextExpectedVersion).toBe(1);
      await again.deleteStream('d');
      await again.close();
    }
  });
});
