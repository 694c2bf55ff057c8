/**
 * Crash-test child: runs shopping-cart commands through CommandHandler on
 * the adapter (group commit, durability immediate) from 8 concurrent
 * clients until killed, and prints `ack <commandId> <cart> <version>
 * <lastGlobalPosition>` for each command once CommandHandler resolved
 * (writeLineSync: in the pipe before the next step, so that an
 * acknowledgement made just before a SIGKILL is still checked).
 * Each command appends 3 events carrying its id (causationId) and part.
 * Args: dir, command id prefix, seed.
 */
import { isExpectedVersionConflictError } from '@event-driven-io/emmett';
import { writeLineSync } from '@episteme/wal/testing';
import { getEpistemeEventStore } from '../../src/index.js';
import { handleCartCommand, type ShoppingCartEvent } from '../../examples/shoppingCart/shoppingCart.js';
import { seededRandom } from '../../../wal/test/rng.js';

const [dir, prefix, seed] = process.argv.slice(2) as [string, string, string];
const store = await getEpistemeEventStore({ dir, groupCommit: true });
const rnd = seededRandom(Number(seed));
const retry = { onVersionConflict: { retries: 1000, minTimeout: 1, maxTimeout: 5, factor: 1.1, shouldRetryError: isExpectedVersionConflictError } };
let next = 0;

async function client(): Promise<void> {
  for (;;) {
    const commandId = `${prefix}-${next++}`;
    const cartId = `cart${Math.floor(rnd() * 6)}`;
    const events = [0, 1, 2].map(
      (part) =>
        ({
          type: 'ProductItemAdded',
          data: { cartId, item: { productId: `p${part}`, quantity: 1 + part, unitPrice: 5 }, addedAt: commandId },
          metadata: { causationId: commandId, part },
        }) as unknown as ShoppingCartEvent,
    );
    const r = await handleCartCommand(store, cartId, () => events, { retry });
    writeLineSync(`ack ${commandId} ${cartId} ${r.nextExpectedStreamVersion} ${r.lastEventGlobalPosition}`);
  }
}

writeLineSync('ready');
await Promise.all(Array.from({ length: 8 }, () => client()));
