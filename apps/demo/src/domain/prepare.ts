import { randomUUID } from 'node:crypto';
import { AssertionMade, AssertionRetracted, validated, type AssertionEvent } from './events.js';

/** A validated event, encoded as its journal payload. */
export interface PreparedEvent {
  id: string;
  payload: Uint8Array;
}

/** Validates an assertion (id and assertedAt generated when absent) into its event payload. */
export function prepareAssertion(input: Record<string, unknown>, producer = 'app'): PreparedEvent {
  const plain = { ...input, id: input.id ?? randomUUID(), assertedAt: input.assertedAt ?? new Date().toISOString() };
  const data = validated(AssertionMade, plain, 'assertion');
  const event: AssertionEvent = { type: 'AssertionMade', data, meta: { producer, schema: 1 } };
  return { id: data.id, payload: Buffer.from(JSON.stringify(event)) };
}

export function prepareRetraction(input: Record<string, unknown>, producer = 'app'): PreparedEvent {
  const plain = { ...input, retractedAt: input.retractedAt ?? new Date().toISOString() };
  const data = validated(AssertionRetracted, plain, 'retraction');
  const event: AssertionEvent = { type: 'AssertionRetracted', data, meta: { producer, schema: 1 } };
  return { id: data.assertionId, payload: Buffer.from(JSON.stringify(event)) };
}
