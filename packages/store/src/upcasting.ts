import { StoreInvalidArgumentError } from './errors.js';
import type { EventMetadata, Upcaster } from './types.js';
import { describeValue } from './describeValue.js';

/** How many upcasters one event may pass through: a chain longer than this is a cycle. */
const MAX_CHAIN = 32;

export type Upcasters = Readonly<Record<string, Upcaster>>;

export function validateUpcasters(upcasters: unknown): Upcasters {
  if (upcasters === undefined) return {};
  if (typeof upcasters !== 'object' || upcasters === null) throw new StoreInvalidArgumentError('upcasters must be an object of functions keyed by event type');
  for (const [type, fn] of Object.entries(upcasters)) {
    if (typeof fn !== 'function') throw new StoreInvalidArgumentError(`the upcaster of "${type}" is not a function`);
  }
  return upcasters as Upcasters;
}

/** What an upcaster must return: checked, since it is the app's code run on every read. */
function isUpcastEvent(v: unknown): v is ReturnType<Upcaster> {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && (v as { type: string }).type !== '';
}

/**
 * Runs the upcasters registered for an event's type, then for the type the
 * result carries, until none applies: old events meet today's code without
 * the log being rewritten.
 */
export function upcast(
  upcasters: Upcasters,
  event: { type: string; data: unknown; metadata: EventMetadata | undefined },
): { type: string; data: unknown; metadata: EventMetadata | undefined } {
  let e = event;
  for (let i = 0; i < MAX_CHAIN; i++) {
    const fn = Object.hasOwn(upcasters, e.type) ? upcasters[e.type] : undefined;
    if (fn === undefined) return e;
    const next: unknown = fn(e);
    if (!isUpcastEvent(next)) {
      throw new StoreInvalidArgumentError(`the upcaster of "${e.type}" returned ${describeValue(next)}: an upcaster returns { type, data, metadata? } with a non-empty string type`);
    }
    const done = next.type === e.type;
    // an upcaster that leaves metadata out keeps it; one that returns `metadata: undefined` drops it
    e = { type: next.type, data: next.data, metadata: 'metadata' in next ? next.metadata : e.metadata };
    if (done) return e;
  }
  throw new StoreInvalidArgumentError(`upcasters for "${event.type}" form a chain longer than ${MAX_CHAIN} (a cycle?)`);
}
