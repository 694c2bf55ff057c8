import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@episteme/store';
import { ConsumerErrorCodes, ConsumerRegistry, isConsumerError, runEventConsumer, type EventRunOptions } from '../../src/index.js';
import { quiet, rejected } from '../helpers.js';
import { appendMix, commitsOf, freshStore, readAllOf } from './storeFixture.js';

const upcasters = { OldPlaced: (e: { data: unknown }) => ({ type: 'Placed', data: { upcast: true, ...(e.data as object) } }) };

describe('runEventConsumer: a consumer of a store receives its decoded events', () => {
  it('hands each event to the handler in global order, equal to readAll, and ends with no lag', async () => {
    const store = await freshStore({ upcasters });
    await appendMix(store);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    registry.register('all');
    const seen: RecordedEvent[] = [];
    const result = await runEventConsumer(registry, 'all', { decoder: store.decoder(), handler: (e) => void seen.push(e), commitEveryRecords: 3, stopAtHead: true });
    expect(result).toMatchObject({ state: 'stopped', cursor: store.log.head });
    expect(seen).toEqual(await readAllOf(store));
    expect(seen.some((e) => e.type === 'OldPlaced')).toBe(false);
    expect(seen.find((e) => (e.data as { upcast?: boolean }).upcast)).toMatchObject({ type: 'Placed', data: { upcast: true, j: 0 } });
    // the run handled every record, the tombstone included
    expect(result.handled).toBe(store.log.countRecords(0));
    expect(registry.list()[0]).toMatchObject({ name: 'all', lagRecords: 0, lagBytes: 0 });
  });

  it('reads into one buffer per run (transientRecords by default): the events handed out, kept past many batches, still equal readAll', async () => {
    const store = await freshStore({ upcasters });
    await appendMix(store, 60);
    await store.appendToStream('bytes-1', [{ type: 'Blob', data: new Uint8Array([1, 2, 3, 250]) }]);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    registry.register('kept');
    registry.register('plain');
    const transient: unknown[] = [];
    const readMany = store.log.readMany.bind(store.log);
    store.log.readMany = (offset, max, options) => (transient.push(options?.transient), readMany(offset, max, options));
    const seen: RecordedEvent[] = [];
    // two records a batch: each batch reads over the buffer the events before came from
    await runEventConsumer(registry, 'kept', { decoder: store.decoder(), handler: (e) => void seen.push(e), batchSize: 2, stopAtHead: true });
    expect(transient.length).toBeGreaterThan(10);
    // one buffer of the run's own (transientReadBuffer()), the same for every read
    expect(typeof transient[0]).toBe('object');
    expect(transient.every((t) => t === transient[0])).toBe(true);
    expect(seen).toEqual(await readAllOf(store));
    expect(seen.at(-1)).toMatchObject({ type: 'Blob', data: new Uint8Array([1, 2, 3, 250]) });
    transient.length = 0;
    await runEventConsumer(registry, 'plain', { decoder: store.decoder(), handler: () => undefined, transientRecords: false, stopAtHead: true });
    expect(transient.every((t) => t === undefined)).toBe(true);
  });

  it('hands a batch handler the events of whole commits, never calling it with none', async () => {
    const store = await freshStore();
    await appendMix(store, 40);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    registry.register('b');
    const batches: string[][] = [];
    await runEventConsumer(registry, 'b', { decoder: store.decoder({ streamPrefix: 'cart-' }), batchHandler: (es) => void batches.push(es.map((e) => e.id)), batchSize: 4, stopAtHead: true });
    const commits = commitsOf(store).filter((ids) => ids.length > 0);
    const cartIds = new Set((await readAllOf(store)).filter((e) => e.stream.startsWith('cart-')).map((e) => e.id));
    const cartCommits = commits.filter((ids) => cartIds.has(ids[0]!));
    expect(batches.every((b) => b.length > 0)).toBe(true);
    expect(batches.flat()).toEqual(cartCommits.flat());
    // every batch is a run of whole commits
    let at = 0;
    for (const batch of batches) {
      let taken = 0;
      while (taken < batch.length) {
        expect(batch.slice(taken, taken + cartCommits[at]!.length)).toEqual(cartCommits[at]);
        taken += cartCommits[at++]!.length;
      }
    }
    expect(registry.get('b').cursor).toBe(store.log.head);
  });

  it('filters by stream prefix and by type; commits filtered out still move the cursor', async () => {
    const store = await freshStore({ upcasters });
    await appendMix(store);
    await store.appendToStream('order-9', [{ type: 'Noise', data: 0 }]); // the last commit is filtered out
    const all = await readAllOf(store);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    const run = async (name: string, filter: object): Promise<RecordedEvent[]> => {
      registry.register(name);
      const seen: RecordedEvent[] = [];
      await runEventConsumer(registry, name, { decoder: store.decoder(filter), handler: (e) => void seen.push(e), stopAtHead: true });
      expect(registry.get(name).cursor, name).toBe(store.log.head);
      return seen;
    };
    expect(await run('orders', { streamPrefix: 'order-' })).toEqual(all.filter((e) => e.stream.startsWith('order-')));
    expect(await run('placed', { types: ['Placed'] })).toEqual(all.filter((e) => e.type === 'Placed'));
    expect(await run('cart-shipped', { streamPrefix: 'cart-', types: ['Shipped'] })).toEqual(all.filter((e) => e.stream.startsWith('cart-') && e.type === 'Shipped'));
    expect(await run('none', { types: ['NeverWritten'] })).toEqual([]);
    expect(registry.list().map((c) => c.lagRecords)).toEqual([0, 0, 0, 0]);
  });

  it('redelivers a commit whole, from its first event, when the handler fails within it', async () => {
    const store = await freshStore();
    await store.appendToStream('order-1', [{ type: 'A', data: 1 }]);
    await store.appendToStream('order-2', [{ type: 'A', data: 2 }, { type: 'B', data: 2 }, { type: 'C', data: 2 }]);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    registry.register('flaky');
    const seen: string[] = [];
    let failed = false;
    const result = await runEventConsumer(registry, 'flaky', {
      decoder: store.decoder(),
      handler: async (e) => {
        seen.push(`${e.stream}:${e.type}`);
        if (e.type === 'B' && !failed) {
          failed = true;
          throw new Error('transient');
        }
      },
      retry: { initialDelayMs: 0 },
      stopAtHead: true,
    });
    expect(result.state).toBe('stopped');
    expect(seen).toEqual(['order-1:A', 'order-2:A', 'order-2:B', 'order-2:A', 'order-2:B', 'order-2:C']);
  });

  it('stops failed at a commit whose handler keeps failing, with the cursor at that commit', async () => {
    const store = await freshStore();
    await store.appendToStream('s-1', [{ type: 'A', data: 1 }]);
    const second = await store.appendToStream('s-2', [{ type: 'A', data: 1 }, { type: 'Bad', data: 1 }]);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    registry.register('stuck');
    const result = await runEventConsumer(registry, 'stuck', {
      decoder: store.decoder(),
      handler: (e) => {
        if (e.type === 'Bad') throw new Error('cannot handle Bad');
      },
      retry: { maxAttempts: 2, initialDelayMs: 0 },
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'failed', handled: 1 });
    // the failed commit starts at its first event's global position
    expect(registry.get('stuck').cursor).toBe(second.globalPosition - 1);
    expect(registry.list()[0]).toMatchObject({ state: 'failed', error: 'cannot handle Bad' });
  });

  it('follows the store: events appended while it runs arrive, until the signal aborts', async () => {
    const store = await freshStore();
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    registry.register('live');
    const ac = new AbortController();
    const seen: string[] = [];
    const running = runEventConsumer(registry, 'live', {
      decoder: store.decoder({ streamPrefix: 'order-' }),
      handler: (e) => {
        seen.push(e.id);
        if (seen.length === 4) ac.abort();
      },
      signal: ac.signal,
    });
    await store.appendToStream('cart-1', [{ type: 'A', data: 0 }]);
    const ids = ['a', 'b', 'c', 'd'].map((id) => ({ id, type: 'A', data: 0 }));
    await store.appendToStream('order-1', ids.slice(0, 1));
    await store.appendToStream('order-2', ids.slice(1));
    expect(await running).toMatchObject({ state: 'stopped', cursor: store.log.head });
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });

  describe('refuses bad options with InvalidConsumerArgumentError, writing nothing', () => {
    const bad: Array<[string, (decoder: unknown) => unknown]> = [
      ['no options', () => undefined],
      ['no decoder', () => ({ handler: () => undefined })],
      ['a decoder that is not one', () => ({ decoder: { filter: {} }, handler: () => undefined })],
      ['no handler', (decoder) => ({ decoder })],
      ['both handlers', (decoder) => ({ decoder, handler: () => undefined, batchHandler: () => undefined })],
      ['a handler that is not a function', (decoder) => ({ decoder, handler: 'print' })],
      ['a bad batchSize (checked by runConsumer)', (decoder) => ({ decoder, handler: () => undefined, batchSize: 0 })],
      ['a bad retry (checked by runConsumer)', (decoder) => ({ decoder, handler: () => undefined, retry: { maxAttempts: -1 } })],
    ];
    it.each(bad)('%s', async (_, options) => {
      const store = await freshStore();
      await appendMix(store, 3);
      const registry = ConsumerRegistry.forStore(store, { logger: quiet });
      registry.register('c');
      const dir = join(store.dir, 'consumers');
      const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('hex')]);
      const err = await rejected(runEventConsumer(registry, 'c', options(store.decoder()) as EventRunOptions));
      expect(isConsumerError(err, ConsumerErrorCodes.InvalidArgument), String(err)).toBe(true);
      expect(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('hex')])).toEqual(before);
      expect(registry.get('c')).toMatchObject({ state: 'registered', cursor: 0 });
    });
  });
});
