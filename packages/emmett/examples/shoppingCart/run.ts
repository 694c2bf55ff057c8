/**
 * The shopping cart on Episteme through Emmett's own API: CommandHandler
 * decides and appends, with Emmett's retry on version conflicts; a projector
 * keeps a summary of every cart from a durable checkpoint.
 *
 *   npm run example -w @episteme/emmett            (a fresh store in a temp directory)
 *   npm run example -w @episteme/emmett -- ./carts (a store that outlives the run)
 *   npm run example -w @episteme/emmett -- --nats nats://127.0.0.1:4222 carts
 *                                                  (the same on a JetStream cluster: servers, comma-separated, and a stream name)
 */
import { isExpectedVersionConflictError, projection, type ReadEventMetadataWithGlobalPosition } from '@event-driven-io/emmett';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEpistemeEventStore } from '../../src/index.js';
import { cartStream, handle, type ShoppingCartCommand, type ShoppingCartEvent } from './shoppingCart.js';

const [first, servers, stream] = process.argv.slice(2);
const onCluster = first === '--nats';
const dir = onCluster ? undefined : (first ?? mkdtempSync(join(tmpdir(), 'episteme-carts-')));
// the only line that differs between the embedded store and the cluster
const eventStore = onCluster
  ? await getEpistemeEventStore({ nats: { servers: (servers ?? 'nats://127.0.0.1:4222').split(','), stream: stream ?? 'carts' } })
  : await getEpistemeEventStore({ dir: dir!, groupCommit: true });
const now = (): string => new Date().toISOString();
// Emmett's retry on ExpectedVersionConflictError, with short waits: 20 writers of one cart need up to 19 rounds
const retry = { onVersionConflict: { retries: 50, minTimeout: 2, maxTimeout: 50, factor: 1.5, randomize: true, shouldRetryError: isExpectedVersionConflictError } };

// 1. commands, one at a time
const cartId = `cart-${Date.now().toString(36)}`;
await handle(eventStore, { type: 'AddProductItem', data: { cartId, item: { productId: 'shoes', quantity: 2, unitPrice: 90 }, now: now() } });
await handle(eventStore, { type: 'AddProductItem', data: { cartId, item: { productId: 'socks', quantity: 3, unitPrice: 5 }, now: now() } });
await handle(eventStore, { type: 'RemoveProductItem', data: { cartId, item: { productId: 'socks', quantity: 1, unitPrice: 5 }, now: now() } });

// 2. 20 concurrent commands on one cart: conflicts are retried by Emmett's CommandHandler
const busy = `${cartId}-busy`;
const adds: ShoppingCartCommand[] = Array.from({ length: 20 }, (_, i) => ({ type: 'AddProductItem', data: { cartId: busy, item: { productId: `p${i % 4}`, quantity: 1, unitPrice: 10 }, now: now() } }));
await Promise.all(adds.map((c) => handle(eventStore, c, { retry })));
const confirmed = await handle(eventStore, { type: 'ConfirmShoppingCart', data: { cartId: busy, now: now() } });
console.log(`cart ${busy}: version ${confirmed.nextExpectedStreamVersion}, state`, confirmed.newState);

// 3. a projector: totals per cart, resumed from its checkpoint on the next run
const totals = new Map<string, number>();
const cartTotals = projection<ShoppingCartEvent, ReadEventMetadataWithGlobalPosition>({
  name: 'cart-totals',
  canHandle: ['ProductItemAdded', 'ProductItemRemoved'],
  handle: async (events) => {
    for (const { type, data } of events) {
      const sign = type === 'ProductItemAdded' ? 1 : -1;
      if (type === 'ProductItemAdded' || type === 'ProductItemRemoved') totals.set(data.cartId, (totals.get(data.cartId) ?? 0) + sign * data.item.quantity * data.item.unitPrice);
    }
  },
});
const consumer = eventStore.consumer({ stopWhen: { noMessagesLeft: true } });
consumer.projector({ projection: cartTotals });
await consumer.start();
console.log('totals projected in this run (from the checkpoint of the last):', Object.fromEntries(totals));

const { events, currentStreamVersion } = await eventStore.readStream(cartStream(cartId));
console.log(`cart ${cartId}: ${events.length} events, version ${currentStreamVersion}:`, events.map((e) => e.type).join(', '));
await eventStore.close();
console.log(onCluster ? `store: the JetStream stream ${stream ?? 'carts'}` : `store: ${dir}`);
