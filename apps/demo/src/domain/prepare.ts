import { randomUUID } from 'node:crypto';
import { isoNow } from './clock.js';
import { AssertionMade, AssertionRetracted, streamOf, validated, type AssertionEvent } from './events.js';

/** A validated event and the stream it goes to (its assertion's). */
export interface PreparedEvent<E extends AssertionEvent = AssertionEvent> {
  /** The assertion's id. */
  id: string;
  stream: string;
  event: E;
}

export type PreparedAssertion = PreparedEvent<Extract<AssertionEvent, { type: 'AssertionMade' }>>;
export type PreparedRetraction = PreparedEvent<Extract<AssertionEvent, { type: 'AssertionRetracted' }>>;

/** Validates an assertion (id and assertedAt generated when absent) into its event. */
export function prepareAssertion(input: Record<string, unknown>, producer = 'app'): PreparedAssertion {
  const plain = { ...input, id: input.id ?? randomUUID(), assertedAt: input.assertedAt ?? isoNow() };
  const data = validated(AssertionMade, plain, 'assertion');
  return { id: data.id, stream: streamOf(data.id), event: { type: 'AssertionMade', data, metadata: { producer, schema: 1 } } };
}

export function prepareRetraction(input: Record<string, unknown>, producer = 'app'): PreparedRetraction {
  const plain = { ...input, retractedAt: input.retractedAt ?? isoNow() };
  const data = validated(AssertionRetracted, plain, 'retraction');
  return { id: data.assertionId, stream: streamOf(data.assertionId), event: { type: 'AssertionRetracted', data, metadata: { producer, schema: 1 } } };
}
