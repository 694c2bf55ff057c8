import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEventStore, type RecordedEvent } from '@episteme/store';
import { ConsumerRegistry } from '@episteme/consumers';
import { eventProjection, ProjectionEngine } from '../../src/index.js';
import { quiet } from '../helpers.js';
import { appendCarts, emptyCart, evolveCart, openStore, type CartEvent } from './storeFixture.js';

interface Seen {
  lines: string[];
}

const upcasters = { Legacy: (e: { data: unknown }) => ({ type: 'ItemAdded', data: { sku: String(e.data), qty: 1 } }) };

/** Keeps one line per event: "what it was given", in order. */
const seenFold = {
  initialState: (): Seen => ({ lines: [] }),
  evolve: (s: Seen, e: RecordedEvent): Seen => {
    s.lines.push(`${e.globalPosition} ${e.stream}@${e.streamPosition} ${e.type} ${JSON.stringify(e.data)}`);
    return s;
  },
};
const seenProjection = (version = 1) => eventProjection({ name: 'seen', version, upcasters, ...seenFold });

const lineOf = (e: RecordedEvent): string => `${e.globalPosition} ${e.stream}@${e.streamPosition} ${e.type} ${JSON.stringify(e.data)}`;

async function readAll(store: Awaited<ReturnType<typeof openStore>>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
}

describe('eventProjection: a global projection of a store events', () => {
  it('folds every event in global order, as readAll gives them (upcast), and filters by prefix and type', async () => {
    const store = await openStore({ upcasters });
    await appendCarts(store, 40, ['cart-1', 'cart-2']);
    await store.appendToStream('cart-3', [{ type: 'Legacy', data: 'old-sku' }]);
    await store.deleteStream('cart-3');
    const all = await readAll(store);
    const engine = ProjectionEngine.forStore(store, { logger: quiet });
    const seen = seenProjection();
    const carts = eventProjection({ ...seenFold, name: 'carts', version: 1, decoder: store.decoder({ streamPrefix: 'cart-', types: ['ItemAdded'] }) });
    engine.register(seen).register(carts);
    await engine.start({ follow: false });
    expect(seen.stateOf(engine).lines).toEqual(all.map(lineOf));
    expect(seen.stateOf(engine).lines.at(-1)).toMatch(/cart-3@1 ItemAdded \{"sku":"old-sku","qty":1\}$/);
    expect(carts.stateOf(engine).lines).toEqual(all.filter((e) => e.stream.startsWith('cart-') && e.type === 'ItemAdded').map(lineOf));
    // every record applied, filtered ones included: the checkpoint is the head
    expect(engine.list().map((p) => p.checkpoint)).toEqual([store.log.head, store.log.head]);
  });

  it('resumes from its snapshot after a restart, and rebuilds the same state from 0 after a version bump', async () => {
    const store = await openStore({ upcasters });
    const dir = store.dir;
    await appendCarts(store, 30, ['cart-1', 'cart-2', 'cart-3']);
    const first = ProjectionEngine.forStore(store, { logger: quiet });
    first.register(seenProjection());
    await first.start({ follow: false });
    await first.stop();
    await store.close();
    expect(existsSync(join(dir, 'projections', 'seen.snapshot'))).toBe(true);

    const again = await openEventStore({ dir, upcasters, durability: 'none' });
    try {
      await appendCarts(again, 10, ['cart-4'], 9);
      const all = await readAll(again);
      const resumed = ProjectionEngine.forStore(again, { logger: quiet });
      const p = seenProjection();
      resumed.register(p);
      const [report] = await resumed.start({ follow: false });
      expect(report).toMatchObject({ mode: 'resumed' });
      expect(p.stateOf(resumed).lines).toEqual(all.map(lineOf));
      await resumed.stop();

      const bumped = ProjectionEngine.forStore(again, { logger: quiet });
      const v2 = seenProjection(2);
      bumped.register(v2);
      const [rebuilt] = await bumped.start({ follow: false });
      expect(rebuilt).toMatchObject({ mode: 'rebuilt', reason: 'version-changed' });
      expect(v2.stateOf(bumped).lines).toEqual(all.map(lineOf));
      await bumped.stop();
    } finally {
      await again.close();
    }
  });

  it('follows the store while it runs, and its cursor shows among the store consumers', async () => {
    const store = await openStore();
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    const engine = ProjectionEngine.forStore(store, { registry, logger: quiet, snapshotEveryEvents: 2 });
    const items = eventProjection<{ added: number }, CartEvent>({
      name: 'added',
      version: 1,
      filter: { types: ['ItemAdded'] },
      initialState: () => ({ added: 0 }),
      evolve: (s, e) => {
        if (e.type === 'ItemAdded') s.added += e.data.qty;
        return s;
      },
    });
    engine.register(items);
    await engine.start();
    await store.appendToStream('cart-1', [{ type: 'ItemAdded', data: { sku: 'a', qty: 2 } }, { type: 'CheckedOut', data: { total: 1 } }]);
    await store.appendToStream('cart-2', [{ type: 'ItemAdded', data: { sku: 'b', qty: 3 } }]);
    await engine.waitFor();
    expect(items.stateOf(engine)).toEqual({ added: 5 });
    await engine.stop();
    expect(registry.list()).toEqual([expect.objectContaining({ name: 'projection.added', cursor: store.log.head, lagRecords: 0 })]);
  });

  it('folds the same as a fold of readAll with the cart evolve (typed events)', async () => {
    const store = await openStore();
    await appendCarts(store, 50, ['cart-1']);
    const engine = ProjectionEngine.forStore(store, { logger: quiet });
    const cart = eventProjection({ name: 'cart-1', version: 1, filter: { streamPrefix: 'cart-1' }, initialState: emptyCart, evolve: evolveCart });
    engine.register(cart);
    await engine.start({ follow: false });
    const { state } = await store.aggregateStream('cart-1', { initialState: emptyCart, evolve: evolveCart });
    expect(cart.stateOf(engine)).toEqual(state);
  });
});
