import type { Event } from '../../src/index.js';

/** The streams crash children write to. */
export const STREAMS = ['acct-0', 'acct-1', 'acct-2', 'acct-3', 'acct-4', 'acct-5'];

/** The events of the commit named `name`: rebuilt the same by the parent, for retries and checks. */
export function eventsOf(name: string, count: number): Event[] {
  return Array.from({ length: count }, (_, k) => ({ id: `${name}-${k}`, type: k % 2 ? 'Debited' : 'Credited', data: { name, k, pad: 'p'.repeat((k * 13) % 40) } }));
}

/** eventsOf without the ids (the store makes them), each event named by its type instead. */
export function encodedEventsOf(name: string, count: number): Event[] {
  return eventsOf(name, count).map(({ id, data }) => ({ type: id!, data }));
}
