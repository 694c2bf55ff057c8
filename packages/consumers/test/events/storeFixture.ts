import { afterEach } from 'vitest';
import { openEventStore, type EventStoreOptions, type LocalEventStore, type RecordedEvent } from '@episteme/store';
import { tempDir } from '../helpers.js';

const stores: LocalEventStore[] = [];
afterEach(async () => {
  while (stores.length) await stores.pop()!.close().catch(() => undefined);
});

/** A store in a fresh directory, closed after the test. */
export async function freshStore(options: Partial<EventStoreOptions> = {}): Promise<LocalEventStore> {
  const store = await openEventStore({ dir: tempDir(), durability: 'none', ...options });
  stores.push(store);
  return store;
}

/**
 * A mix a consumer of a store meets: commits of 1 to 4 events over two
 * categories, an old event type (for an upcaster), a deleted stream.
 */
export async function appendMix(store: LocalEventStore, commits = 30): Promise<void> {
  for (let i = 0; i < commits; i++) {
    const stream = i % 3 === 0 ? `cart-${i % 2}` : `order-${i % 4}`;
    const events = Array.from({ length: 1 + (i % 4) }, (_, j) => ({ type: j === 0 && i % 5 === 0 ? 'OldPlaced' : j % 2 ? 'Shipped' : 'Placed', data: { i, j } }));
    await store.appendToStream(stream, events);
  }
  await store.deleteStream('cart-0');
}

export async function readAllOf(store: LocalEventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
}

/** The ids of each commit's events, in log order (tombstones left out): what "a commit whole" means. */
export function commitsOf(store: LocalEventStore): string[][] {
  const out: string[][] = [];
  for (const rec of store.log.readMany(store.log.earliest, 1_000_000)) {
    const ids = store.decoder().eventsOf(rec).map((e) => e.id);
    if (ids.length > 0) out.push(ids);
  }
  return out;
}
