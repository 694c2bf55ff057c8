import type { EventCodec } from '@episteme/projections';
import type { AssertionEvent } from '../domain/events.js';

/**
 * A record of the app's journal that is not an assertion event: not JSON,
 * or not of the shape the projections read. The journal takes any bytes
 * (`episteme-wal append` on it, another program; the app's CLI itself only
 * appends validated events), and the log is append-only: a
 * projection that failed on such a record would fail on it forever, and
 * with it every query and the id checks. So the projections step over it
 * (stats counts it) instead.
 */
export interface NotAnAssertion {
  type: 'NotAnAssertion';
}

export type AppEvent = AssertionEvent | NotAnAssertion;

const NOT_AN_ASSERTION: NotAnAssertion = Object.freeze({ type: 'NotAnAssertion' });
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const areStrings = (o: Record<string, unknown>, keys: readonly string[]): boolean => keys.every((k) => typeof o[k] === 'string');

/**
 * Whether `v` has what the projections read of an event. The app validated
 * its own events fully before appending (domain/prepare.ts); this only keeps
 * foreign records from being half-read.
 */
export function isAssertionEvent(v: unknown): v is AssertionEvent {
  if (!isRecord(v) || !isRecord(v.data)) return false;
  if (v.type === 'AssertionMade') return areStrings(v.data, ['id', 'subject', 'predicate', 'object', 'source', 'assertedAt']) && typeof v.data.confidence === 'number';
  if (v.type === 'AssertionRetracted') return areStrings(v.data, ['assertionId']);
  return false;
}

/** JSON, as the default codec; a record that is not an assertion event decodes to NotAnAssertion. */
export const assertionCodec: EventCodec<AppEvent> = {
  decode(payload) {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(payload));
    } catch {
      return NOT_AN_ASSERTION;
    }
    return isAssertionEvent(value) ? value : NOT_AN_ASSERTION;
  },
  encode: (event) => encoder.encode(JSON.stringify(event)),
};
