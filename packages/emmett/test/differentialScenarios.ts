import {
  ExpectedVersionConflictError,
  getInMemoryEventStore,
  isExpectedVersionConflictError,
  NO_CONCURRENCY_CHECK,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  type Event,
  type EventStore,
} from '@event-driven-io/emmett';

/**
 * The same scenarios against Emmett's in-memory store (the reference) and
 * the adapter; every result and every error, normalized only where the
 * stores may differ by design: global positions (dense from 1 in memory,
 * log positions plus 1 here; checked to increase) and generated message ids
 * (fresh UUIDs in both; checked to be stable across reads).
 */
export type Step = (store: EventStore) => Promise<unknown>;

export type Added = Event<'Added', { n: number }>;
type AddedV1 = Event<'AddedV1', { value: string }>;

export const added = (n: number, metadata?: Record<string, unknown>): Added => (metadata ? ({ type: 'Added', data: { n }, metadata } as unknown as Added) : { type: 'Added', data: { n } });

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

const read = (stream: string, options?: Parameters<EventStore['readStream']>[1]): Step => (s) => s.readStream(stream, options);
const append = (stream: string, events: Event[], options?: Parameters<EventStore['appendToStream']>[2]): Step => (s) => s.appendToStream(stream, events, options);
const sum = (stream: string, read?: object): Step => (s) =>
  s.aggregateStream<number, Added>(stream, { initialState: () => 0, evolve: (total: number, e: Added) => total + e.data.n, ...(read ? { read } : {}) });

export const scenarios: Record<string, Step[]> = {
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

/**
 * Runs `steps` against Emmett's in-memory store and against `store`, one
 * step on each in turn; the normalized outcomes of both.
 */
export async function runOnBoth(steps: Step[], store: EventStore): Promise<{ memory: unknown[]; episteme: unknown[] }> {
  const memoryStore = getInMemoryEventStore();
  const memory: unknown[] = [];
  const episteme: unknown[] = [];
  for (const step of steps) {
    memory.push(await outcome(step, memoryStore));
    episteme.push(await outcome(step, store));
  }
  return { memory, episteme };
}
