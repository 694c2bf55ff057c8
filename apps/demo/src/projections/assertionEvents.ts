import { createEventDecoder, isStoreError, type Event, type EventDecoder, type RecordedEvent } from '@episteme/store';
import type { LogRecord } from '@episteme/wal';
import { DecodedRecords } from './decodedRecords.js';
import { ASSERTION_STREAM_PREFIX, type AssertionEvent } from '../domain/events.js';

/**
 * What the app's projections and its audit export make of what they cannot
 * read as an assertion event: a record of the log that is not an event
 * store commit (the journal takes any bytes: `episteme-wal append` on it,
 * another program; the app itself only appends validated events through the
 * store, and the store's writer refuses to open a journal holding such a
 * record), or an event of an assertion stream without an assertion event's
 * shape (another program writing through the store). The log is
 * append-only: a projection that failed on such a record would fail on it
 * forever, and with it every query. So they step over it (stats counts it).
 */
export type NotAnAssertion = RecordedEvent<Event<'NotAnAssertion', { reason: string }>>;

/** An event as the app's readers receive it. */
export type AppEvent = RecordedEvent<AssertionEvent> | NotAnAssertion;
/** The events the app's decoder yields, as `Event`s (for eventProjection's and runEventConsumer's type parameter). */
export type AppEventType = AssertionEvent | Event<'NotAnAssertion', { reason: string }>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether `e` has what the projections read of an event. The app validated
 * its own events fully before appending (domain/prepare.ts); this only keeps
 * other writers' events from being half-read.
 */
export function isAssertionEvent(e: { type: string; data: unknown }): e is RecordedEvent<AssertionEvent> {
  if (!isRecord(e.data)) return false;
  const d = e.data;
  if (e.type === 'AssertionMade') {
    return typeof d.id === 'string' && typeof d.subject === 'string' && typeof d.predicate === 'string' && typeof d.object === 'string' && typeof d.source === 'string' && typeof d.assertedAt === 'string' && typeof d.confidence === 'number';
  }
  if (e.type === 'AssertionRetracted') return typeof d.assertionId === 'string';
  return false;
}

function notAnAssertion(globalPosition: number, stream: string, reason: string): NotAnAssertion {
  return { type: 'NotAnAssertion', data: { reason }, metadata: undefined, id: '', stream, streamPosition: 0, globalPosition, recordedAt: new Date(0) };
}

/** What the app's followers decoded lately: 2048 records of up to 1 KiB (an assertion's commit is about 400 B), 2 MiB. */
const decodedLately = new DecodedRecords<AppEvent>(2048, 1024);

/**
 * The store's decoder for the assertion streams (events of other streams
 * are not the app's), handing what it cannot read as NotAnAssertion instead
 * of failing: the decoder of the app's projections and audit export. They
 * all share what it decoded lately (DecodedRecords): while they follow the
 * head together, a commit is decoded once for the three of them, and its
 * events are frozen.
 */
export function assertionDecoder(): EventDecoder {
  const inner = createEventDecoder({ filter: { streamPrefix: ASSERTION_STREAM_PREFIX } });
  const decode = (record: Pick<LogRecord, 'offset' | 'payload'>): AppEvent[] => {
    let events: RecordedEvent[];
    try {
      events = inner.eventsOf(record);
    } catch (err) {
      if (isStoreError(err)) return [notAnAssertion(record.offset, '', err.message)]; // not a commit, or a damaged one
      throw err;
    }
    // in place: the array is this call's own, and nearly always every event is an assertion event
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (!isAssertionEvent(e)) events[i] = notAnAssertion(e.globalPosition, e.stream, `an event of type ${JSON.stringify(e.type)} without an assertion event's shape`);
    }
    return events as AppEvent[];
  };
  return {
    filter: inner.filter,
    // the consumers' and projections' types take a plain array; the events are frozen, and they only read them
    eventsOf: (record) => decodedLately.eventsOf(record, decode) as RecordedEvent[],
  };
}
