import { describe, expect, it } from 'vitest';
import { openEventStore, type LocalEventStore } from '@episteme/store';
import { encodeSnapshot, decodeSnapshot, InMemorySnapshotStore, perStreamProjection, ProjectionEngine } from '../../src/index.js';
import { quiet } from '../helpers.js';
import { appendCarts, emptyCart, evolveCart, openStore, type Cart, type CartEvent } from './storeFixture.js';

const carts = (version = 1) =>
  perStreamProjection<Cart, CartEvent>({ name: 'carts', version, filter: { streamPrefix: 'cart-' }, initialState: emptyCart, evolve: evolveCart });

/** Every stream of `prefix` folded by aggregateStream: what the per-stream projection must hold. */
async function foldEach(store: LocalEventStore, streams: string[]): Promise<Map<string, Cart>> {
  const out = new Map<string, Cart>();
  for (const stream of streams) {
    const r = await store.aggregateStream(stream, { initialState: emptyCart, evolve: evolveCart });
    if (r.streamExists) out.set(stream, r.state);
  }
  return out;
}

const STREAMS = ['cart-1', 'cart-2', 'cart-3', 'cart-4', 'cart-5'];

describe('perStreamProjection: one state per stream', () => {
  it('holds for each stream what aggregateStream folds, after a restart from its snapshot and after a rebuild from 0', async () => {
    const store = await openStore();
    const dir = store.dir;
    await appendCarts(store, 80, STREAMS);
    const engine = ProjectionEngine.forStore(store, { logger: quiet });
    const p = carts();
    engine.register(p);
    await engine.start({ follow: false });
    expect(new Map(p.streams(engine))).toEqual(await foldEach(store, STREAMS));
    expect(p.stateOf(engine, 'cart-1')).toEqual((await foldEach(store, ['cart-1'])).get('cart-1'));
    expect(p.stateOf(engine, 'cart-9')).toBeUndefined();
    expect(p.stateOf(engine, 'order-3')).toBeUndefined(); // outside the prefix
    await engine.stop();
    await store.close();

    const again = await openEventStore({ dir, durability: 'none' });
    try {
      await appendCarts(again, 40, STREAMS, 5);
      await again.deleteStream('cart-2');
      await again.appendToStream('cart-2', [{ type: 'ItemAdded', data: { sku: 'fresh', qty: 1 } }], { recreate: true });
      await again.deleteStream('cart-3');
      const expected = await foldEach(again, STREAMS);
      expect(expected.has('cart-3')).toBe(false);
      expect(expected.get('cart-2')).toEqual({ items: { fresh: 1 }, checkedOut: false, events: 1 });

      const resumed = ProjectionEngine.forStore(again, { logger: quiet });
      const p2 = carts();
      resumed.register(p2);
      expect((await resumed.start({ follow: false }))[0]).toMatchObject({ mode: 'resumed' });
      expect(new Map(p2.streams(resumed))).toEqual(expected);
      await resumed.stop();

      const bumped = ProjectionEngine.forStore(again, { logger: quiet });
      const p3 = carts(2);
      bumped.register(p3);
      expect((await bumped.start({ follow: false }))[0]).toMatchObject({ mode: 'rebuilt', reason: 'version-changed' });
      expect(new Map(p3.streams(bumped))).toEqual(expected);
      await bumped.stop();
    } finally {
      await again.close();
    }
  });

  it('keeps streams named like Object.prototype members as ordinary keys, in memory and through a snapshot', async () => {
    const store = await openStore();
    const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
    for (const [i, stream] of names.entries()) await store.appendToStream(stream, [{ type: 'ItemAdded', data: { sku: 'x', qty: i + 1 } }]);
    const snapshots = new InMemorySnapshotStore();
    const p = perStreamProjection<Cart, CartEvent>({ name: 'all', version: 1, initialState: emptyCart, evolve: evolveCart });
    const engine = ProjectionEngine.forStore(store, { store: snapshots, logger: quiet });
    engine.register(p);
    await engine.start({ follow: false });
    await engine.stop();
    const reopened = ProjectionEngine.forStore(store, { store: snapshots, logger: quiet });
    const p2 = perStreamProjection<Cart, CartEvent>({ name: 'all', version: 1, initialState: emptyCart, evolve: evolveCart });
    reopened.register(p2);
    expect((await reopened.start({ follow: false }))[0]).toMatchObject({ mode: 'resumed' });
    for (const [i, stream] of names.entries()) expect(p2.stateOf(reopened, stream), stream).toEqual({ items: { x: i + 1 }, checkedOut: false, events: 1 });
    expect([...p2.streams(reopened).keys()].sort()).toEqual([...names].sort());
    expect(p2.stateOf(reopened, 'propertyIsEnumerable')).toBeUndefined();
  });

  it('reads a snapshot whose states hold a "__proto__" key as a stream, never as the prototype', () => {
    // "__proto__" cannot name a stream (names start with a letter or digit), but a snapshot is data read back
    const p = perStreamProjection<number>({ name: 'n', version: 1, initialState: () => 0, evolve: (n) => n + 1 });
    const json = '{"__proto__": 7, "constructor": 1}';
    const states = p.deserialize!(JSON.parse(json) as unknown);
    expect([...states]).toEqual([
      ['__proto__', 7],
      ['constructor', 1],
    ]);
    const data = p.serialize!(states) as object;
    expect(Object.getPrototypeOf(data)).toBe(null);
    const back = decodeSnapshot(encodeSnapshot({ name: 'n', version: 1, checkpoint: 0, state: data, events: 2, savedAt: '' }), 'memory');
    expect(Object.hasOwn(back.state as object, '__proto__')).toBe(true);
    expect([...p.deserialize!(back.state)]).toEqual([...states]);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('serializes each stream state with the given serialize and deserialize', async () => {
    const store = await openStore();
    await store.appendToStream('cart-1', [{ type: 'CheckedOut', data: { total: 3 } }]);
    const snapshots = new InMemorySnapshotStore();
    const make = () =>
      perStreamProjection<{ at: Date }>({
        name: 'dates',
        version: 1,
        initialState: () => ({ at: new Date(0) }),
        evolve: (_, e) => ({ at: e.recordedAt }),
        serialize: (s) => s.at.toISOString(),
        deserialize: (d) => ({ at: new Date(d as string) }),
      });
    const first = ProjectionEngine.forStore(store, { store: snapshots, logger: quiet });
    first.register(make());
    await first.start({ follow: false });
    await first.stop();
    expect(snapshots.load('dates')!.state).toEqual({ 'cart-1': expect.stringMatching(/^\d{4}-/) });
    const second = ProjectionEngine.forStore(store, { store: snapshots, logger: quiet });
    const p = make();
    second.register(p);
    await second.start({ follow: false });
    expect(p.stateOf(second, 'cart-1')!.at).toBeInstanceOf(Date);
  });
});
