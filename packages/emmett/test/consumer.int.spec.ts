import { afterEach, describe, expect, it } from 'vitest';
import { getEpistemeEventStore, isEmmettAdapterError, type EpistemeEventStore } from '../src/index.js';
import { cursorNameOf } from '../src/consumer/cursorName.js';
import { ConsumerRegistry } from '@episteme/consumers';
import { openEventStore, type LocalEventStore } from '@episteme/store';
import { interfaceOnly, tempDir } from './helpers.js';
import { addedEventsOf, fill, readModel, type Added } from './totalsProjection.js';

const opened: EpistemeEventStore[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

const EVENTS = 10_000;

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe("Emmett's consumer on the adapter", () => {
  it('a projector over 10,000 events, stopped and restarted (also after a reopen), ends with the state of one pass and a durable checkpoint', async () => {
    const dir = tempDir();
    let store = await getEpistemeEventStore({ dir, durability: 'none' });
    opened.push(store);
    const expected = await fill(store, EVENTS);
    const { model, definition } = readModel();

    // first run: stopped part-way
    let consumer = store.consumer({ pulling: { batchSize: 16 } });
    consumer.projector({ projection: definition });
    const first = consumer.start();
    await until(() => model.applied.size >= 2_000);
    await consumer.stop();
    await first;
    const afterFirst = model.applied.size;
    expect(afterFirst).toBeLessThan(EVENTS);

    // second run in the same open: resumes from its checkpoint, stopped again
    consumer = store.consumer();
    consumer.projector({ projection: definition });
    const second = consumer.start();
    await until(() => model.applied.size >= afterFirst + 2_000);
    await consumer.stop();
    await second;

    // the checkpoint is on disk: a reopen resumes from it
    await store.close();
    opened.pop();
    store = await getEpistemeEventStore({ dir });
    opened.push(store);
    const local = store.store as LocalEventStore;
    const registry = ConsumerRegistry.forStore(local);
    const cursor = registry.get(cursorNameOf('emt:processor:projector:totals')).cursor;
    expect(cursor).toBeGreaterThan(0);
    consumer = store.consumer({ stopWhen: { noMessagesLeft: true } });
    consumer.projector({ projection: definition });
    await consumer.start();

    expect(model.twice).toEqual([]);
    expect(model.total).toBe(expected);
    expect(model.applied.size).toBe(addedEventsOf(EVENTS));
    // the final checkpoint is the head
    expect(registry.get(cursorNameOf('emt:processor:projector:totals')).cursor).toBe(local.log.head);
  });

  it('a reactor that returns STOP inside a commit resumes from that commit, whole; one that stops at its end resumes after it', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    await store.appendToStream('r-1', [1, 2, 3].map((n) => ({ type: 'Added', data: { n } })));
    await store.appendToStream('r-2', [4, 5].map((n) => ({ type: 'Added', data: { n } })));
    const run = async (stopAt: number | undefined): Promise<number[]> => {
      const seen: number[] = [];
      const consumer = store.consumer({ stopWhen: { noMessagesLeft: true } });
      consumer.reactor<Added>({
        processorId: 'stopper',
        eachMessage: async (e) => {
          seen.push(e.data.n);
          return e.data.n === stopAt ? { type: 'STOP' } : undefined;
        },
      });
      await consumer.start();
      await consumer.close();
      return seen;
    };
    expect(await run(2)).toEqual([1, 2]);
    // at least once per commit: the commit holding the STOP comes again from its first event
    expect(await run(3)).toEqual([1, 2, 3]);
    expect(await run(undefined)).toEqual([4, 5]);
    expect(await run(undefined)).toEqual([]);
  });

  it("a processor closed while it runs (Emmett closes them on SIGTERM and SIGINT) stops its run: no checkpoint past the events it did not handle", async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    for (let n = 1; n <= 5; n++) await store.appendToStream('c-1', [{ type: 'Added', data: { n } }]);
    const seen: number[] = [];
    const closing = store.consumer({ stopWhen: { noMessagesLeft: true } });
    const processor = closing.reactor<Added>({
      processorId: 'closed',
      eachMessage: async (e) => {
        seen.push(e.data.n);
        // what Emmett's own shutdown hook does: the processor handles nothing more
        if (e.data.n === 2) await processor.close({ eventStore: store });
      },
    });
    await closing.start();
    await closing.close();
    expect(seen).toEqual([1, 2]);
    const next = store.consumer({ stopWhen: { noMessagesLeft: true } });
    next.reactor<Added>({ processorId: 'closed', eachMessage: async (e) => void seen.push(e.data.n) });
    await next.start();
    await next.close();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('a handler that keeps failing stops its processor with its error; the event is delivered again on the next start, never skipped', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    await store.appendToStream('f-1', [{ type: 'Added', data: { n: 1 } }]);
    await store.appendToStream('f-1', [{ type: 'Added', data: { n: 2 } }]);
    const seen: number[] = [];
    const failing = store.consumer({ stopWhen: { noMessagesLeft: true } });
    failing.reactor<Added>({
      processorId: 'flaky',
      eachMessage: async (e) => {
        if (e.data.n === 2) throw new Error('handler down');
        seen.push(e.data.n);
      },
    });
    await expect(failing.start()).rejects.toThrow('handler down');
    await failing.close();
    const healthy = store.consumer({ stopWhen: { noMessagesLeft: true } });
    healthy.reactor<Added>({ processorId: 'flaky', eachMessage: async (e) => void seen.push(e.data.n) });
    await healthy.start();
    expect(seen).toEqual([1, 2]);
  });

  it('runs processors on a store known only by its interface, with the consumers it is given (as the cluster store will give its own)', async () => {
    const inner = await openEventStore({ dir: tempDir() });
    const store = await getEpistemeEventStore({
      store: interfaceOnly(inner),
      consumers: { registry: ConsumerRegistry.forStore(inner), decoder: inner.decoder() },
    });
    opened.push(store);
    for (let i = 0; i < 5; i++) await store.appendToStream(`x-${i % 2}`, [{ type: 'Added', data: { n: i } }, { type: 'Added', data: { n: 10 + i } }]);
    const seen: bigint[] = [];
    const consumer = store.consumer({ stopWhen: { noMessagesLeft: true } });
    consumer.reactor<Added>({ processorId: 'by-interface', eachMessage: async (e) => void seen.push(e.metadata.globalPosition) });
    await consumer.start();
    const all: bigint[] = [];
    for (let i = 0; i < 2; i++) for (const e of (await store.readStream(`x-${i}`)).events) all.push(e.metadata.globalPosition);
    expect(seen).toEqual(all.sort((a, b) => (a < b ? -1 : 1)));
  });

  it('the same consumer started again after stop() goes on from where its processors were', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    const seen: number[] = [];
    const consumer = store.consumer();
    consumer.reactor<Added>({ processorId: 'again', eachMessage: async (e) => void seen.push(e.data.n) });
    await store.appendToStream('a-1', [{ type: 'Added', data: { n: 1 } }, { type: 'Added', data: { n: 2 } }]);
    let running = consumer.start();
    await until(() => seen.length === 2);
    await consumer.stop();
    await running;
    await store.appendToStream('a-1', [{ type: 'Added', data: { n: 3 } }]);
    running = consumer.start();
    await until(() => seen.length >= 3);
    await consumer.stop();
    await running;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('refuses to start without a processor, and consumer() on a store without cursors', async () => {
    const dir = tempDir();
    const store = await getEpistemeEventStore({ dir });
    opened.push(store);
    const err = await store
      .consumer()
      .start()
      .catch((e: unknown) => e);
    expect(isEmmettAdapterError(err, 'EMMETT_CONSUMER_STATE')).toBe(true);
    const inner = store.store;
    const wrapped = await getEpistemeEventStore({
      store: interfaceOnly(inner, async () => undefined),
    });
    const c = wrapped.consumer();
    c.reactor({ processorId: 'x', eachMessage: () => undefined });
    expect(isEmmettAdapterError(await c.start().catch((e: unknown) => e), 'EMMETT_CONSUMER_UNSUPPORTED')).toBe(true);
  });
});
