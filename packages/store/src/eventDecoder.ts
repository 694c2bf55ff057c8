import type { LogRecord } from '@episteme/wal';
import { StoreInvalidArgumentError } from './errors.js';
import { decodeHeader } from './commit/decodeCommit.js';
import { KIND_TOMBSTONE } from './commit/layout.js';
import { recordedEventsOf } from './recordedEvents.js';
import { validateStreamName } from './streamName.js';
import type { RecordedEvent, Upcaster } from './types.js';
import { validateUpcasters, type Upcasters } from './upcasting.js';
import { describeValue } from './describeValue.js';

/**
 * Which events a consumer or projection of a store receives. Both parts
 * must match; an absent part matches everything.
 */
export interface EventFilter {
  /** Streams whose name starts with this (a category: `order-` for `order-42`). */
  readonly streamPrefix?: string;
  /** Event types, as read (after upcasting). */
  readonly types?: readonly string[];
}

/**
 * Turns a record of a store's log into the events it holds: what a consumer
 * or projection of the store is given. A tombstone holds none. A record that
 * is not a store commit is STORE_CORRUPT_COMMIT (CorruptCommitError).
 */
export interface EventDecoder {
  /** The events of `record` that pass the filter, in commit order. */
  eventsOf(record: Pick<LogRecord, 'offset' | 'payload'>): RecordedEvent[];
  /** The filter this decoder applies (frozen). */
  readonly filter: Readonly<EventFilter>;
}

export interface EventDecoderOptions {
  /** The same upcasters the store was opened with, so events read here look as `readStream` shows them. */
  upcasters?: Record<string, Upcaster>;
  filter?: EventFilter;
}

export function validateEventFilter(filter: unknown): Readonly<EventFilter> {
  if (filter === undefined) return Object.freeze({});
  if (typeof filter !== 'object' || filter === null) throw new StoreInvalidArgumentError('an event filter is an object: { streamPrefix?, types? }');
  const f = filter as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (key !== 'streamPrefix' && key !== 'types') throw new StoreInvalidArgumentError(`an event filter has no "${key}" (it takes streamPrefix and types)`);
  }
  const out: { streamPrefix?: string; types?: readonly string[] } = {};
  if (f.streamPrefix !== undefined) {
    if (typeof f.streamPrefix !== 'string' || f.streamPrefix === '') {
      throw new StoreInvalidArgumentError(`streamPrefix must be a non-empty string, not ${describeValue(f.streamPrefix)}`);
    }
    // a prefix no stream name could start with is a mistake, not an empty subscription
    try {
      validateStreamName(f.streamPrefix);
    } catch (err) {
      throw new StoreInvalidArgumentError(`streamPrefix ${JSON.stringify(f.streamPrefix)} cannot begin a stream name: ${(err as Error).message}`);
    }
    out.streamPrefix = f.streamPrefix;
  }
  if (f.types !== undefined) {
    if (!Array.isArray(f.types) || f.types.length === 0 || f.types.some((t) => typeof t !== 'string' || t === '')) {
      throw new StoreInvalidArgumentError('types must be a non-empty array of event type names');
    }
    out.types = Object.freeze([...(f.types as string[])]);
  }
  return Object.freeze(out);
}

/**
 * The stream a record of a store's log deletes (a tombstone), or undefined
 * for a commit: a read model keyed by stream drops that stream's state, as
 * the store's reads do. STORE_CORRUPT_COMMIT for a record that is neither.
 */
export function deletedStreamOf(record: Pick<LogRecord, 'offset' | 'payload'>): string | undefined {
  const header = decodeHeader(record.payload, record.offset);
  return header.kind === KIND_TOMBSTONE ? header.stream : undefined;
}

export function createEventDecoder(options: EventDecoderOptions = {}): EventDecoder {
  if (typeof options !== 'object' || options === null) throw new StoreInvalidArgumentError('createEventDecoder takes { upcasters?, filter? }');
  const upcasters: Upcasters = validateUpcasters(options.upcasters);
  const filter = validateEventFilter(options.filter);
  const prefix = filter.streamPrefix;
  const types = filter.types === undefined ? undefined : new Set(filter.types);
  return {
    filter,
    eventsOf(record) {
      const header = decodeHeader(record.payload, record.offset);
      if (header.kind === KIND_TOMBSTONE) return [];
      // the stream is in the header: a commit of another category is skipped without decoding its events
      if (prefix !== undefined && !header.stream.startsWith(prefix)) return [];
      const events = recordedEventsOf(record.payload, header, record.offset, upcasters);
      return types === undefined ? events : events.filter((e) => types.has(e.type));
    },
  };
}
