import {
  getInMemoryEventStore,
  isExpectedVersionConflictError,
  ExpectedVersionConflictError,
  NO_CONCURRENCY_CHECK,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  type Event,
  type EventStore,
  type ReadEvent,
} from '@event-driven-io/emmett';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStore } from '@episteme/store';
import { getEpistemeEventStore, type EpistemeEventStore, type EpistemeReadEvent } from '../src/index.js';
import { interfaceOnly, tempDir } from './helpers.js';

/**
 * The same scenarios against Emmett's in-memory store (the reference) and
 * the adapter; every result and every error, normalized only where the
 * stores may differ by design: global positions (dense from 1 in memory,
 * log positions plus 1 here; checked to increase) and generated message ids
 * (fresh UUIDs in both; checked to be stable across reads).
 */
type Step = (store: EventStore) => Promise<unknown>;

type Added = Event<'Added', { n: number }>;
type AddedV1 = Event<'AddedV1', { value: string }>;

const added = (n: number, metadata?: Record<string, unknown>): Added => (metadata ? ({ type: 'Added', data: { n }, metadata } as unknown as Added) : { type: 'Added', data: { n } });

/** A result or error with what may differ by design taken out. */
function normalize(value: unknown): unknown {
  if (value instanceof Error) {
    return {
      error: value.constructor.name,
      message: value.message,
      conflict: isExpectedVersionConflictError(value),
      ...(value instanceof ExpectedVersionConflictError ? { current: (value as unknown as { current: unknown }).current, expected: (value as unknown as { expected: unknown }).expected } : {}),
    };
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'globalPosition' || k === 'lastEventGlobalPosition') continue;
      if (k === 'messageId') {
        out[k] = typeof v === 'string' && v.length > 0 ? '<id>' : v;
        continue;
      }
      out[k] = normalize(v);
    }
    return out;
  }
  return value;
}

async function outcome(step: Step, store: EventStore): Promise<unknown> {
  try {
    return normalize(await step(store));
  } catch (err) {
    return normalize(err);
  }
}

const opened: EpistemeEventStore[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

/**
 * The adapter on an embedded store, or on a store it only knows through
 * @episteme/store's EventStore interface (what the cluster's store will
 * be): the Emmett API must use nothing else.
 */
async function openAdapter(through: 'dir' | 'interface'): Promise<EpistemeEventStore> {
  if (through === 'dir') return getEpistemeEventStore({ dir: tempDir() });
  const inner = await openEventStore({ dir: tempDir() });
  return getEpistemeEventStore({ store: interfaceOnly(inner) });
}

async function runBoth(steps: Step[], through: 'dir' | 'interface' = 'dir'): Promise<{ memory: unknown[]; episteme: unknown[]; store: EpistemeEventStore }> {
  const memoryStore = getInMemoryEventStore();
  const store = await openAdapter(through);
  opened.push(store);
  const memory: unknown[] = [];
  const episteme: unknown[] = [];
  for (const step of steps) {
    memory.push(await outcome(step, memoryStore));
    episteme.push(await outcome(step, store));
  }
  return { memory, episteme, store };
}

const read = (stream: string, options?: Parameters<EventStore['readStream']>[1]): Step => (s) => s.readStream(stream, options);
const append = (stream: string, events: Event[], options?: Parameters<EventStore['appendToStream']>[2]): Step => (s) => s.appendToStream(stream, events, options);
const sum = (stream: string, read?: object): Step => (s) =>
  s.aggregateStream<number, Added>(stream, { initialState: () => 0, evolve: (total: number, e: Added) => total + e.data.n, ...(read ? { read } : {}) });

const scenarios: Record<string, Step[]> = {
  'appends with every kind of expected version': [
    append('cart-1', [added(1)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }),
    append('cart-1', [added(2)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }),
    append('cart-1', [added(2), added(3)], { expectedStreamVersion: STREAM_EXISTS }),
    append('cart-2', [added(9)], { expectedStreamVersion: STREAM_EXISTS }),
    append('cart-1', [added(4)], { expectedStreamVersion: 3n }),
    append('cart-1', [added(5)], { expectedStreamVersion: 3n }),
    append('cart-1', [added(5)], { expectedStreamVersion: 9n }),
    append('cart-2', [added(6)], { expectedStreamVersion: 0n }),
    append('cart-2', [added(7)], { expectedStreamVersion: 0n }),
    append('cart-1', [added(8)], { expectedStreamVersion: NO_CONCURRENCY_CHECK }),
    append('cart-3', [added(10)], { expectedStreamVersion: NO_CONCURRENCY_CHECK }),
    append('cart-3', [added(11), added(12), added(13)]),
    append('cart-4', [added(14)]),
    read('cart-1'),
    read('cart-2'),
    read('cart-3'),
  ],
  'reads with ranges': [
    append('r-1', [1, 2, 3, 4, 5, 6, 7].map((n) => added(n))),
    read('r-1', { from: 0n }),
    read('r-1', { from: 2n }),
    read('r-1', { to: 3n }),
    read('r-1', { from: 2n, to: 5n }),
    read('r-1', { from: 1n, maxCount: 2n }),
    read('r-1', { maxCount: 3n }),
    read('r-1', { maxCount: 0n }),
    read('r-1', { from: 5n, to: 2n }),
    read('r-1', { from: 3n, to: 3n }),
    read('r-1', { from: 7n }),
    read('r-1', { from: 20n }),
    read('r-1', { to: 20n }),
    read('r-1', { to: 0n }),
    read('nothing-here'),
    read('nothing-here', { from: 1n, to: 2n }),
    read('r-1', { expectedStreamVersion: 7n }),
    read('r-1', { expectedStreamVersion: 6n }),
    read('r-1', { expectedStreamVersion: STREAM_EXISTS }),
    read('r-1', { expectedStreamVersion: STREAM_DOES_NOT_EXIST }),
    read('nothing-here', { expectedStreamVersion: STREAM_EXISTS }),
    read('nothing-here', { expectedStreamVersion: STREAM_DOES_NOT_EXIST }),
  ],
  'aggregateStream': [
    append('a-1', [1, 2, 3, 4].map((n) => added(n))),
    sum('a-1'),
    sum('a-1', { to: 2n }),
    sum('a-1', { from: 1n }),
    sum('a-1', { from: 1n, maxCount: 2n }),
    sum('a-1', { expectedStreamVersion: 4n }),
    sum('a-1', { expectedStreamVersion: 3n }),
    sum('a-1', { expectedStreamVersion: STREAM_DOES_NOT_EXIST }),
    sum('none'),
    sum('none', { expectedStreamVersion: STREAM_EXISTS }),
  ],
  'stream existence': [
    (s) => s.streamExists('e-1'),
    append('e-1', [added(1)]),
    (s) => s.streamExists('e-1'),
    (s) => s.streamExists('e-2'),
  ],
  'metadata': [
    append('m-1', [added(1, { correlationId: 'corr-1', causationId: 'cause-1' }), added(2, { correlationId: 'corr-1', tenant: 'acme', nested: { a: [1, 2] } })]),
    append('m-1', [added(3)]),
    read('m-1'),
    read('m-1', { from: 1n }),
  ],
  'upcasting and downcasting': [
    append('u-1', [{ type: 'AddedV1', data: { value: '7' } } as AddedV1]),
    append('u-1', [added(5)], { schema: { versioning: { downcast: (e: Event) => ({ type: 'AddedV1', data: { value: String((e.data as { n: number }).n) }, metadata: { schemaVersion: 1 } }) } } } as never),
    read('u-1'),
    read('u-1', { schema: { versioning: { upcast: (e: Event) => ({ type: 'Added', data: { n: Number((e.data as { value?: string; n?: number }).value ?? (e.data as { n: number }).n) }, metadata: { upcasted: true } }) } } } as never),
    (s) =>
      s.aggregateStream<number, Added, AddedV1>('u-1', {
        initialState: () => 0,
        evolve: (t: number, e: Added) => t + e.data.n,
        read: { schema: { versioning: { upcast: (e: AddedV1) => ({ type: 'Added', data: { n: Number(e.data.value) } }) } } },
      }),
  ],
};

describe('the adapter against Emmett getInMemoryEventStore', () => {
  for (const through of ['dir', 'interface'] as const) {
    for (const [name, steps] of Object.entries(scenarios)) {
      it(`gives the same results (${through === 'dir' ? 'embedded store' : 'a store known only by its interface'}): ${name}`, async () => {
        const { memory, episteme } = await runBoth(steps, through);
        expect(episteme).toEqual(memory);
      });
    }
  }

  it('returns increasing global positions from 1, lastEventGlobalPosition of the commit, and message ids stable across reads', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    const a = await store.appendToStream('g-1', [added(1), added(2)]);
    const b = await store.appendToStream('g-2', [added(3)]);
    expect(a.lastEventGlobalPosition).toBeGreaterThanOrEqual(2n);
    expect(b.lastEventGlobalPosition).toBeGreaterThan(a.lastEventGlobalPosition);
    const first = await store.readStream('g-1');
    const again = await store.readStream('g-1');
    const positions = first.events.map((e) => e.metadata.globalPosition);
    expect(positions[0]).toBeGreaterThanOrEqual(1n);
    expect(positions[1]).toBe(a.lastEventGlobalPosition);
    expect((await store.readStream('g-2')).events[0]!.metadata.globalPosition).toBe(b.lastEventGlobalPosition);
    expect(again.events.map((e) => e.metadata.messageId)).toEqual(first.events.map((e) => e.metadata.messageId));
    const agg = await store.aggregateStream('g-1', { initialState: () => 0, evolve: (n: number) => n + 1 });
    expect(agg).toMatchObject({ streamExists: true, lastEventGlobalPosition: a.lastEventGlobalPosition });
  });

  it('keeps a messageId the caller gives (as Emmett SQL stores do) and resolves a retried append to its first result', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    const events = [added(1, { messageId: 'msg-1', correlationId: 'c' }), added(2, { messageId: 'msg-2' })];
    const first = await store.appendToStream('i-1', events, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
    const retry = await store.appendToStream('i-1', events, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
    expect(retry).toEqual(first);
    const { events: read_ } = await store.readStream('i-1');
    expect(read_.map((e: ReadEvent) => e.metadata.messageId)).toEqual(['msg-1', 'msg-2']);
    expect(read_[0]!.metadata).toMatchObject({ correlationId: 'c', streamName: 'i-1', streamPosition: 1n });
  });

  it('throws Emmett own ExpectedVersionConflictError with the actual version, which CommandHandler retry policies recognise', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    await store.appendToStream('c-1', [added(1), added(2)]);
    const err = await store.appendToStream('c-1', [added(3)], { expectedStreamVersion: 1n }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpectedVersionConflictError);
    expect(isExpectedVersionConflictError(err)).toBe(true);
    expect(err).toMatchObject({ current: '2', expected: '1' });
    expect((await store.readStream('c-1')).currentStreamVersion).toBe(2n);
  });

  it('calls onAfterCommit with the committed events as read back', async () => {
    const seen: EpistemeReadEvent[][] = [];
    const store = await getEpistemeEventStore({ dir: tempDir(), hooks: { onAfterCommit: (events) => void seen.push(events as EpistemeReadEvent[]) } });
    opened.push(store);
    const r = await store.appendToStream('h-1', [added(1), added(2, { correlationId: 'x' })]);
    const { events } = await store.readStream('h-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual(events);
    expect(seen[0]![1]!.metadata.globalPosition).toBe(r.lastEventGlobalPosition);
  });

  it('close() stops its consumers and closes the journal: calls then reject with STORE_CLOSED and the directory opens again', async () => {
    const dir = tempDir();
    const store = await getEpistemeEventStore({ dir });
    await store.appendToStream('z-1', [added(1)]);
    const consumer = store.consumer();
    consumer.reactor({ processorId: 'follower', eachMessage: () => undefined });
    const running = consumer.start();
    await store.close();
    await running;
    expect(consumer.isRunning).toBe(false);
    expect(((await store.appendToStream('z-1', [added(2)]).catch((e: unknown) => e)) as { code?: string }).code).toBe('STORE_CLOSED');
    const again = await getEpistemeEventStore({ dir });
    opened.push(again);
    expect((await again.readStream('z-1')).currentStreamVersion).toBe(1n);
  });
});
