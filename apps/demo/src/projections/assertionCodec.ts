import { createEventDecoder, isStoreError, type RecordedEvent } from '@episteme/store';
import type { EventCodec } from '@episteme/projections';
import { ASSERTION_STREAM_PREFIX, type AssertionEvent } from '../domain/events.js';

/**
 * What the app's projections make of a record of its log that holds no
 * assertion event it can read: a record that is not an event store commit
 * (the journal takes any bytes: `episteme-wal append` on it, another
 * program; the app itself only appends validated events through the
 * store), or an event of an assertion stream without an assertion event's
 * shape. The log is append-only: a projection that failed on such a record
 * would fail on it forever, and with it every query. So the projections step
 * over it (stats counts it) instead.
 */
export interface NotAnAssertion {
  type: 'NotAnAssertion';
}

export type AppEvent = RecordedEvent<AssertionEvent> | NotAnAssertion;

const NOT_AN_ASSERTION: NotAnAssertion = Object.freeze({ type: 'NotAnAssertion' });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const areStrings = (o: Record<string, unknown>, keys: readonly string[]): boolean => keys.every((k) => typeof o[k] === 'string');

/**
 * Whether `e` has what the projections read of an event. The app validated
 * its own events fully before appending (domain/prepare.ts); this only keeps
 * other writers' events from being half-read.
 */
export function isAssertionEvent(e: { type: string; data: unknown }): e is RecordedEvent<AssertionEvent> {
  if (!isRecord(e.data)) return false;
  if (e.type === 'AssertionMade') return areStrings(e.data, ['id', 'subject', 'predicate', 'object', 'source', 'assertedAt']) && typeof e.data.confidence === 'number';
  if (e.type === 'AssertionRetracted') return areStrings(e.data, ['assertionId']);
  return false;
}

/** The store's decoder, for the assertion streams only: events of other streams are not the app's. */
const decoder = createEventDecoder({ filter: { streamPrefix: ASSERTION_STREAM_PREFIX } });

/** The assertion events of one record of the log (offset and payload, as the projection engine gives them). */
export function assertionEventsOf(offset: number, payload: Uint8Array): AppEvent[] {
  let events: RecordedEvent[];
  try {
    events = decoder.eventsOf({ offset, payload });
  } catch (err) {
    if (isStoreError(err)) return [NOT_AN_ASSERTION]; // not a commit, or a damaged one
    throw err;
  }
  return events.map((e) => (isAssertionEvent(e) ? e : NOT_AN_ASSERTION));
}

/**
 * The projections take the record's payload as it is and decode it in
 * `apply`, where the record's offset is known: an event's global position
 * comes from it.
 */
export const rawCodec: EventCodec<Uint8Array> = {
  decode: (payload) => payload,
  encode: (payload) => payload,
};
