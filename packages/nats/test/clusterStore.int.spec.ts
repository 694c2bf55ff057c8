import { describe, expect, it } from 'vitest';
import { openEventStore as openLocal, type RecordedEvent } from '@episteme/store';
import { runConsumer } from '@episteme/consumers';
import { createEventDecoder } from '@episteme/store';
import { ClusterEventStore, NatsLog, natsRegistry, openEventStore } from '../src/index.js';
import { CLUSTER_TEST_TIMEOUT, refusal, skipReason, tempDir, useCluster } from './helpers.js';

describe.skipIf(skipReason !== undefined)('the event store on a JetStream cluster', () => {
  const { cluster } = useCluster();

  it('appends, reads and folds streams as the embedded store does; expected versions and retries are the same', async () => {
    const store = await openEventStore({ nats: { servers: cluster().servers, stream: 'store_basic' } });
    expect(store).toBeInstanceOf(ClusterEventStore);
    try {
      const first = await store.appendToStream('order-1', [{ type: 'Placed', data: { n: 1 }, id: 'e1' }, { type: 'Paid', data: { n: 2 }, id: 'e2' }], { expectedVersion: 'no_stream' });
      expect(first).toMatchObject({ nextExpectedVersion: 2, createdStream: true });
      const second = await store.appendToStream('order-1', [{ type: 'Shipped', data: { n: 3 }, metadata: { by: 'x' }, id: 'e3' }], { expectedVersion: 2 });
      expect(second.nextExpectedVersion).toBe(3);
      expect(second.globalPosition).toBeGreaterThan(first.globalPosition);
      await store.appendToStream('other.stream/with:chars', [{ type: 'Bytes', data: new Uint8Array([1, 2, 3]) }]);

      // a stale expected version: typed conflict naming the actual version, nothing written
      const conflict = await refusal(store.appendToStream('order-1', [{ type: 'Late', data: {} }], { expectedVersion: 1 }));
      expect(conflict).toMatchObject({ code: 'STORE_VERSION_CONFLICT', actual: 3 });
      // a retry with the same ids (even with its stale expected version) resolves to the original commit
      expect(await store.appendToStream('order-1', [{ type: 'Shipped', data: { n: 3 }, metadata: { by: 'x' }, id: 'e3' }], { expectedVersion: 2 })).toEqual({ ...second, alreadyAppended: true });
      expect(await refusal(store.appendToStream('order-1', [{ type: 'Shipped', data: { n: 4 }, id: 'e3' }], { expectedVersion: 2 }))).toMatchObject({ code: 'STORE_DUPLICATE_EVENT_ID' });
      expect(await refusal(store.appendToStream('bad name', [{ type: 'X', data: {} }]))).toMatchObject({ code: 'STORE_INVALID_STREAM_NAME' });
      expect(await refusal(store.appendToStream('order-1', [], {}))).toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });

      const read = await store.readStream('order-1');
      expect(read.currentVersion).toBe(3);
      expect(read.events.map((e) => [e.id, e.type, e.streamPosition, e.data])).toEqual([
        ['e1', 'Placed', 1, { n: 1 }],
        ['e2', 'Paid', 2, { n: 2 }],
        ['e3', 'Shipped', 3, { n: 3 }],
      ]);
      expect(read.events[2]!.metadata).toEqual({ by: 'x' });
      expect((await store.readStream('order-1', { from: 2, maxCount: 1 })).events.map((e) => e.id)).toEqual(['e2']);
      expect((await store.readStream('other.stream/with:chars')).events[0]!.data).toEqual(new Uint8Array([1, 2, 3]));
      const folded = await store.aggregateStream('order-1', { initialState: () => 0, evolve: (s, e: RecordedEvent) => s + (e.data as { n: number }).n });
      expect(folded).toEqual({ state: 6, currentVersion: 3, streamExists: true });
      expect(await store.streamExists('nope')).toBe(false);

      const all: string[] = [];
      let last = -1;
      for await (const e of store.readAll()) {
        expect(e.globalPosition).toBeGreaterThan(last);
        last = e.globalPosition;
        all.push(e.id);
      }
      expect(all.slice(0, 3)).toEqual(['e1', 'e2', 'e3']);
      expect(all).toHaveLength(4);

      await store.deleteStream('order-1', { expectedVersion: 3 });
      expect(await store.streamExists('order-1')).toBe(false);
      expect(await refusal(store.appendToStream('order-1', [{ type: 'Again', data: {} }]))).toMatchObject({ code: 'STORE_STREAM_DELETED' });
      expect(await refusal(store.deleteStream('order-1'))).toMatchObject({ code: 'STORE_STREAM_DELETED', message: 'stream "order-1" is already deleted; nothing was written' });
      expect((await store.appendToStream('order-1', [{ type: 'Again', data: {} }], { recreate: true })).nextExpectedVersion).toBe(1);

      // a subscription sees what is there, then what comes
      const stop = new AbortController();
      const seen: string[] = [];
      const sub = (async () => {
        for await (const e of store.subscribe({ signal: stop.signal })) {
          seen.push(e.type);
          if (e.type === 'Later') stop.abort();
        }
      })();
      await store.appendToStream('order-2', [{ type: 'Later', data: {} }]);
      await sub;
      expect(seen).toEqual(['Placed', 'Paid', 'Shipped', 'Bytes', 'Again', 'Later']);
    } finally {
      await store.close();
    }
    expect(await refusal(store.readStream('order-1'))).toMatchObject({ code: 'STORE_CLOSED' });
  }, CLUSTER_TEST_TIMEOUT);

  it('switches by configuration alone: the same calls on the embedded store give the same versions and events', async () => {
    const local = await openLocal({ dir: tempDir() });
    const remote = await openEventStore({ nats: { servers: cluster().servers, stream: 'store_same' } });
    try {
      for (const store of [local, remote]) {
        await store.appendToStream('cart-1', [{ type: 'Added', data: { sku: 'a' }, id: 'x1' }]);
        await store.appendToStream('cart-1', [{ type: 'Added', data: { sku: 'b' }, id: 'x2' }, { type: 'Removed', data: { sku: 'a' }, id: 'x3' }], { expectedVersion: 1 });
      }
      const shape = (r: { events: RecordedEvent[]; currentVersion: number }) => ({ v: r.currentVersion, e: r.events.map((e) => [e.id, e.type, e.streamPosition, e.data]) });
      expect(shape(await remote.readStream('cart-1'))).toEqual(shape(await local.readStream('cart-1')));
    } finally {
      await local.close();
      await remote.close();
    }
  }, CLUSTER_TEST_TIMEOUT);

  it('consumers run on the store\'s stream through a NatsLog, and their cleanup never purges it', async () => {
    const store = await ClusterEventStore.open({ servers: cluster().servers, stream: 'store_consumed' });
    try {
      for (let i = 0; i < 20; i++) await store.appendToStream(`s-${i % 4}`, [{ type: 'E', data: { i } }]);
      const log = await NatsLog.open({ servers: cluster().servers, stream: 'store_consumed' });
      try {
        expect(log.purgeable).toBe(false);
        const registry = natsRegistry(log, { logger: { warn: () => undefined } });
        registry.register('reader');
        const decoder = createEventDecoder();
        const seen: number[] = [];
        await runConsumer(registry, 'reader', { handler: (r) => void seen.push(...decoder.eventsOf(r).map((e) => (e.data as { i: number }).i)), stopAtHead: true });
        expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
        await log.cursors.flush();
        expect(registry.cleanup()).toEqual([]);
        expect(log.deleteBelow(log.head)).toEqual([]);
      } finally {
        await log.close();
      }
      expect((await store.readStream('s-0')).currentVersion).toBe(5);
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT);
});
