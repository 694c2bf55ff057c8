import { ExpectedVersionConflictError, getInMemoryEventStore, isExpectedVersionConflictError, type EventStore } from '@event-driven-io/emmett';
import { expect } from 'vitest';
import { cartStream, evolve, handle, initialState, type ShoppingCart, type ShoppingCartCommand, type ShoppingCartEvent } from '../examples/shoppingCart/shoppingCart.js';
import { seededRandom } from './helpers.js';

/**
 * CommandHandler under concurrency, as checks on any Emmett EventStore
 * (the adapter on the embedded store in commandHandler.int.spec.ts, on the
 * cluster in cluster.int.spec.ts).
 */

const CARTS = 4;
const COMMANDS = 32;

/** 32 adds spread over 4 carts, with distinct products and quantities (seeded). */
function commands(seed: number): ShoppingCartCommand[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: COMMANDS }, (_, i) => ({
    type: 'AddProductItem',
    data: { cartId: `cart${i % CARTS}`, item: { productId: `p${Math.floor(rnd() * 5)}`, quantity: 1 + Math.floor(rnd() * 9), unitPrice: 10 }, now: `2026-12-07T00:00:${String(i).padStart(2, '0')}Z` },
  }));
}

/** The adapter, recording every error an append throws (CommandHandler's retries swallow them). */
function recording(store: EventStore): { store: EventStore; errors: unknown[] } {
  const errors: unknown[] = [];
  return {
    errors,
    store: {
      aggregateStream: (name, options) => store.aggregateStream(name, options),
      readStream: (name, options) => store.readStream(name, options),
      streamExists: (name) => store.streamExists(name),
      appendToStream: async (name, events, options) => {
        try {
          return await store.appendToStream(name, events, options);
        } catch (err) {
          errors.push(err);
          throw err;
        }
      },
    },
  };
}

/**
 * The state a sequential replay gives: the commands that succeeded, in the
 * order of the versions they were appended at, handled one at a time by the
 * same CommandHandler on Emmett's in-memory store.
 */
async function sequentialReplay(done: Array<{ command: ShoppingCartCommand; version: bigint }>): Promise<Map<string, { state: ShoppingCart; version: bigint }>> {
  const memory = getInMemoryEventStore();
  const ordered = [...done].sort((a, b) => (a.command.data.cartId === b.command.data.cartId ? Number(a.version - b.version) : a.command.data.cartId < b.command.data.cartId ? -1 : 1));
  for (const { command } of ordered) await handle(memory, command);
  const out = new Map<string, { state: ShoppingCart; version: bigint }>();
  for (let c = 0; c < CARTS; c++) {
    const r = await memory.aggregateStream<ShoppingCart, ShoppingCartEvent>(cartStream(`cart${c}`), { initialState, evolve });
    out.set(`cart${c}`, { state: r.state, version: r.currentStreamVersion });
  }
  return out;
}

async function finalStates(store: EventStore): Promise<Map<string, { state: ShoppingCart; version: bigint }>> {
  const out = new Map<string, { state: ShoppingCart; version: bigint }>();
  for (let c = 0; c < CARTS; c++) {
    const r = await store.aggregateStream<ShoppingCart, ShoppingCartEvent>(cartStream(`cart${c}`), { initialState, evolve });
    out.set(`cart${c}`, { state: r.state, version: r.currentStreamVersion });
  }
  return out;
}

/** 32 concurrent commands on 4 carts without retry: one winner per version, every loser Emmett's ExpectedVersionConflictError, the final states those of a sequential replay. */
export async function checkConcurrentWithoutRetry(adapter: EventStore): Promise<void> {
  const { store, errors } = recording(adapter);
  const cmds = commands(27);
  const results = await Promise.allSettled(cmds.map((c) => handle(store, c)));
  const done: Array<{ command: ShoppingCartCommand; version: bigint }> = [];
  const rejected: unknown[] = [];
  results.forEach((r, i) => (r.status === 'fulfilled' ? done.push({ command: cmds[i]!, version: r.value.nextExpectedStreamVersion }) : rejected.push(r.reason)));
  // all 32 read their cart before any append resolved: one winner per cart at version 1, the others conflict
  expect(rejected.length).toBeGreaterThan(0);
  for (const err of rejected) {
    expect(err).toBeInstanceOf(ExpectedVersionConflictError);
    expect(isExpectedVersionConflictError(err)).toBe(true);
  }
  expect(errors).toEqual(rejected);
  const versions = done.map((d) => `${d.command.data.cartId}@${d.version}`);
  expect(new Set(versions).size).toBe(versions.length);
  expect(await finalStates(adapter)).toEqual(await sequentialReplay(done));
}

/** 32 concurrent commands on 4 carts with Emmett's retry on version conflicts: all succeed, every conflict seen was Emmett's class, the final states those of a sequential replay. */
export async function checkConcurrentWithRetry(adapter: EventStore): Promise<void> {
  const { store, errors } = recording(adapter);
  const cmds = commands(28);
  const retry = { onVersionConflict: { retries: 200, minTimeout: 1, maxTimeout: 10, factor: 1.2, randomize: true, shouldRetryError: isExpectedVersionConflictError } };
  const results = await Promise.all(cmds.map((c) => handle(store, c, { retry })));
  expect(errors.length).toBeGreaterThan(0);
  for (const err of errors) expect(err).toBeInstanceOf(ExpectedVersionConflictError);
  const done = results.map((r, i) => ({ command: cmds[i]!, version: r.nextExpectedStreamVersion }));
  const finals = await finalStates(adapter);
  for (let c = 0; c < CARTS; c++) expect(finals.get(`cart${c}`)!.version).toBe(BigInt(COMMANDS / CARTS));
  expect(finals).toEqual(await sequentialReplay(done));
  // and each cart holds the sum of its commands' quantities, whatever their order
  for (let c = 0; c < CARTS; c++) {
    const want: Record<string, number> = {};
    for (const cmd of cmds) if (cmd.data.cartId === `cart${c}` && cmd.type === 'AddProductItem') want[cmd.data.item.productId] = (want[cmd.data.item.productId] ?? 0) + cmd.data.item.quantity;
    const state = finals.get(`cart${c}`)!.state;
    expect(state.status).toBe('Open');
    expect(Object.fromEntries(Object.entries(state.status === 'Open' ? state.items : {}).map(([p, v]) => [p, v.quantity]))).toEqual(want);
  }
}
