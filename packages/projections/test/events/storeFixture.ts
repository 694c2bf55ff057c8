import { openEventStore, type Event, type EventStoreOptions, type LocalEventStore, type RecordedEvent } from '@episteme/store';
import { later, tempDir } from '../helpers.js';

/** A store in a fresh directory (or `dir`), closed after the test. */
export async function openStore(options: Partial<EventStoreOptions> = {}): Promise<LocalEventStore> {
  const store = await openEventStore({ dir: tempDir(), durability: 'none', ...options });
  later(() => store.close());
  return store;
}

/** The events of a cart: what the tests' read models fold. */
export type CartEvent =
  | Event<'ItemAdded', { sku: string; qty: number }>
  | Event<'ItemRemoved', { sku: string }>
  | Event<'CheckedOut', { total: number }>;

export interface Cart {
  items: Record<string, number>;
  checkedOut: boolean;
  events: number;
}

export const emptyCart = (): Cart => ({ items: {}, checkedOut: false, events: 0 });

/** A cart's state after one event (mutates: as a projection may). */
export function evolveCart(cart: Cart, e: RecordedEvent<CartEvent>): Cart {
  switch (e.type) {
    case 'ItemAdded':
      cart.items[e.data.sku] = (cart.items[e.data.sku] ?? 0) + e.data.qty;
      break;
    case 'ItemRemoved':
      delete cart.items[e.data.sku];
      break;
    case 'CheckedOut':
      cart.checkedOut = true;
      break;
  }
  cart.events++;
  return cart;
}

/** `commits` commits of 1 to 3 cart events over `streams` carts and some `order-` noise, seeded by `seed`. */
export async function appendCarts(store: LocalEventStore, commits: number, streams: string[], seed = 1): Promise<void> {
  let x = seed;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < commits; i++) {
    if (i % 7 === 3) {
      await store.appendToStream(`order-${i}`, [{ type: 'Placed', data: { i } }]);
      continue;
    }
    const stream = streams[Math.floor(rnd() * streams.length)]!;
    const events: CartEvent[] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, j): CartEvent => {
      const sku = `sku-${Math.floor(rnd() * 4)}`;
      const r = rnd();
      if (r < 0.6) return { type: 'ItemAdded', data: { sku, qty: 1 + j } };
      if (r < 0.9) return { type: 'ItemRemoved', data: { sku } };
      return { type: 'CheckedOut', data: { total: i } };
    });
    await store.appendToStream(stream, events);
  }
}
