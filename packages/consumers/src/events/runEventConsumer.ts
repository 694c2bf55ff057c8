import type { Event, EventDecoder, RecordedEvent } from '@episteme/store';
import type { LogRecord } from '@episteme/wal';
import { InvalidConsumerArgumentError } from '../errors.js';
import type { ConsumerRegistry } from '../registry.js';
import { runConsumer, type RunOptions, type RunResult } from '../runner.js';

/** Receives each event of the store, in global order. */
export type EventHandler<E extends Event = Event> = (event: RecordedEvent<E>) => unknown | Promise<unknown>;
/** Receives the events of a batch of whole commits, in global order (never called with none). */
export type EventBatchHandler<E extends Event = Event> = (events: RecordedEvent<E>[]) => unknown | Promise<unknown>;

export interface EventRunOptions<E extends Event = Event> extends Omit<RunOptions, 'handler' | 'batchHandler'> {
  /**
   * Turns the store's records into the events this consumer receives:
   * `store.decoder(filter?)` (the store's upcasters), or `createEventDecoder`
   * with the same upcasters in a process that reads the journal without the store.
   */
  decoder: EventDecoder;
  /** Called once per event. Give this or `batchHandler`. */
  handler?: EventHandler<E>;
  /** Called with the events of up to `batchSize` commits at a time. */
  batchHandler?: EventBatchHandler<E>;
}

/**
 * Runs a consumer of an event store: `runConsumer` over the store's log,
 * each record decoded into the events of its commit. The cursor stays a
 * position in the log and moves only past whole commits, so delivery is at
 * least once per commit: a commit interrupted by a crash, or whose handler
 * failed and is retried, is delivered again whole, from its first event;
 * never a part of it. A commit none of whose events pass the decoder's
 * filter (or a tombstone) calls no handler and still moves the cursor, so
 * a filtered consumer's lag reaches 0. A record that is not a store commit
 * fails like a failing handler (STORE_CORRUPT_COMMIT, after the retries).
 * Bad options reject with InvalidConsumerArgumentError before anything is written.
 * Records are read with `transientRecords` unless it is given `false`: the
 * store's decoders copy what an event holds, and a decoder of your own must
 * too (or run with `transientRecords: false`).
 */
export async function runEventConsumer<E extends Event = Event>(registry: ConsumerRegistry, name: string, options: EventRunOptions<E>): Promise<RunResult> {
  const { decoder, handler, batchHandler, ...given } = checkEventRunOptions(options);
  // a record is decoded before its handler is called, into events that copy what they hold (ids, types, JSON,
  // byte data): no event keeps a view of the record, so the runner may read into one buffer per run
  const rest = { ...given, transientRecords: given.transientRecords ?? true };
  const decode = (record: LogRecord) => decoder.eventsOf(record) as RecordedEvent<E>[];
  if (handler) return runConsumer(registry, name, { ...rest, handler: (record) => deliverEach(handler, decode(record), 0) });
  return runConsumer(registry, name, {
    ...rest,
    batchHandler: (records) => {
      const events: RecordedEvent<E>[] = [];
      for (const record of records) for (const e of decode(record)) events.push(e);
      return events.length === 0 ? undefined : batchHandler!(events);
    },
  });
}

/**
 * Calls `handler` on `events[from..]` in order. Without awaiting while the
 * handler returns no promise: the runner then takes the record as handled
 * at once (no await per record, most of a fast consumer's time otherwise).
 */
function deliverEach<E extends Event>(handler: EventHandler<E>, events: RecordedEvent<E>[], from: number): unknown {
  for (let i = from; i < events.length; i++) {
    const result = handler(events[i]!);
    if (isThenable(result)) return result.then(() => deliverEach(handler, events, i + 1));
  }
  return undefined;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

/** The event-level options checked; the rest are runConsumer's, which checks them before it writes anything. */
function checkEventRunOptions<E extends Event>(options: EventRunOptions<E>): EventRunOptions<E> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidConsumerArgumentError(`runEventConsumer's options must be an object, not ${String(options)}`);
  }
  const o = options as unknown as Record<string, unknown>;
  const decoder = o.decoder as Partial<EventDecoder> | null | undefined;
  if (typeof decoder !== 'object' || decoder === null || typeof decoder.eventsOf !== 'function') {
    throw new InvalidConsumerArgumentError("runEventConsumer needs a decoder: store.decoder(filter?) or createEventDecoder({ upcasters, filter })");
  }
  if ((o.handler === undefined) === (o.batchHandler === undefined)) {
    throw new InvalidConsumerArgumentError('runEventConsumer needs exactly one of `handler` and `batchHandler`');
  }
  const key = o.handler !== undefined ? 'handler' : 'batchHandler';
  if (typeof o[key] !== 'function') throw new InvalidConsumerArgumentError(`${key} must be a function, not ${typeof o[key]}`);
  return options;
}
