import { CommandHandler, NoRetries, type EventStore } from '@event-driven-io/emmett';
import { getEpistemeEventStore } from '@episteme/emmett';
import { join } from 'node:path';
import { decide, evolve, initialState, type ShoppingCart, type ShoppingCartCommand, type ShoppingCartEvent } from '../../../packages/emmett/examples/shoppingCart/shoppingCart.js';
import { ratio } from '../table.js';
import { median } from '../timing.js';
import type { Cell, Table } from '../types.js';
import type { PeersModule } from './peersPackage.js';
import { serialized, SIDE_LABELS, type SideId } from './sides.js';
import { percentile } from './workloads.js';

/**
 * Shopping-cart commands through Emmett's CommandHandler (aggregate the
 * cart, decide, append with the version read) on three Emmett event
 * stores: Episteme through @episteme/emmett, Emmett's SQLite store and its
 * PostgreSQL store. Each client fills carts of its own: 8 AddProductItem
 * commands then ConfirmShoppingCart, then a new cart (carts stay short, as
 * they are). Every command is durable on every side before it resolves.
 */
/** The stores of the commands table: the streams suite's, and the adapter on a JetStream cluster. */
export type CommandSideId = SideId | 'cluster';

export interface CommandSide {
  id: CommandSideId;
  label: string;
  /** Runs one command; resolves to the cart's version after it. */
  command(cartId: string, command: ShoppingCartCommand): Promise<bigint>;
  close(): Promise<void>;
  /** Commands that failed with SQLITE_BUSY and were made again. */
  retried: number;
}

export const COMMAND_LABELS: Record<CommandSideId, string> = { ...SIDE_LABELS, episteme: 'Episteme via @episteme/emmett', cluster: 'Episteme via @episteme/emmett on NATS (R3)' };

const handleCart = CommandHandler<ShoppingCart, ShoppingCartEvent>({ evolve, initialState, mapToStreamId: (id) => `shopping_cart-${id}` });

function plainSide(id: CommandSideId, store: EventStore, close: () => Promise<void>): CommandSide {
  return {
    id,
    label: COMMAND_LABELS[id],
    retried: 0,
    // no retry: each client owns its carts, so a conflict would be a bug of the bench, not contention
    command: async (cartId, command) => (await handleCart(store, cartId, (state) => decide(command, state), { retry: NoRetries })).nextExpectedStreamVersion,
    close,
  };
}

/** Episteme as the README's quick start opens it for concurrent writers: durability immediate, group commit on. */
export async function openEpistemeCommands(dir: string): Promise<CommandSide> {
  const store = await getEpistemeEventStore({ dir, durability: 'immediate', groupCommit: true });
  return plainSide('episteme', store, () => store.close());
}

/**
 * The same adapter on a JetStream cluster (`{ nats }`): an R3 stream, each
 * append acknowledged by a quorum of the servers (in memory on 2.9.10,
 * docs/nats.md), appends serialized on the stream.
 */
export async function openClusterCommands(servers: string[]): Promise<CommandSide> {
  const store = await getEpistemeEventStore({ nats: { servers, stream: 'bench_carts', replicas: 3 } });
  return plainSide('cluster', store, () => store.close());
}

/**
 * Emmett's SQLite store as it configures itself (a connection per
 * operation, no busy timeout). Concurrent commands fail with SQLITE_BUSY, so
 * commands are queued one at a time, as an app with concurrent clients has
 * to; about one commit in a thousand fails with SQLITE_BUSY even alone
 * (sides.ts) and is made again, counted.
 */
export function openSQLiteCommands(peers: PeersModule, dir: string): CommandSide {
  const store = peers.getSQLiteEventStore({ fileName: join(dir, 'carts.db') }) as unknown as EventStore;
  const side = plainSide('sqlite', store, async () => {
    await new Promise((r) => setTimeout(r, 200)); // statements Emmett left to finalize must not meet a deleted file
  });
  const once = side.command;
  side.command = serialized(async (cartId: string, command: ShoppingCartCommand) => {
    // Emmett prints a failed transaction's error with console.log; stdout holds only the tables
    const log = console.log;
    console.log = console.error;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(cartId, command);
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 5) throw err;
          side.retried++;
        }
      }
    } finally {
      console.log = log;
    }
  });
  return side;
}

/** Emmett's PostgreSQL store on its default pool (node-postgres, 10 connections). */
export function openPostgresCommands(peers: PeersModule, connectionString: string): CommandSide {
  const store = peers.getPostgreSQLEventStore(connectionString);
  return plainSide('postgres', store as unknown as EventStore, () => store.close());
}

export interface CommandSlice {
  commands: number;
  ms: number;
  /** Per-command latency, µs. */
  latencies: number[];
}

let sliceCounter = 0;

/** `clients` loops for `ms`, each running cart commands on carts of its own. */
export async function commandSlice(side: CommandSide, ms: number, clients: number): Promise<CommandSlice> {
  const slice = ++sliceCounter;
  const latencies: number[] = [];
  let commands = 0;
  const start = performance.now();
  const deadline = start + ms;
  const client = async (k: number): Promise<void> => {
    for (let cart = 0, t0 = performance.now(); t0 < deadline; cart++) {
      const cartId = `s${slice}c${k}n${cart}`;
      for (let i = 0; i <= 8 && t0 < deadline; i++) {
        const now = new Date().toISOString();
        const command: ShoppingCartCommand =
          i < 8 ? { type: 'AddProductItem', data: { cartId, item: { productId: `p${i % 3}`, quantity: 1 + i, unitPrice: 25 }, now } } : { type: 'ConfirmShoppingCart', data: { cartId, now } };
        const version = await side.command(cartId, command);
        if (version !== BigInt(i + 1)) throw new Error(`${side.label}: cart ${cartId} at version ${version} after ${i + 1} commands`);
        const t1 = performance.now();
        latencies.push((t1 - t0) * 1000);
        t0 = t1;
        commands++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, k) => client(k)));
  return { commands, ms: performance.now() - start, latencies };
}

export type CommandKey = 'commands1' | 'commands64';
export const COMMAND_WORKLOADS: Array<{ key: CommandKey; clients: number; title: string }> = [
  { key: 'commands1', clients: 1, title: '1 client' },
  { key: 'commands64', clients: 64, title: '64 clients, carts of their own' },
];
export type CommandFigures = Map<string, CommandSlice[]>;

const rate = (s: { commands: number; ms: number }): number => s.commands / (s.ms / 1e3);

/** The median over rounds of the same-round ratio of commands/s, Episteme / side. */
export function pairedCommandRatio(f: CommandFigures, key: CommandKey, id: CommandSideId): number | null {
  const e = f.get(`${key}:episteme`);
  const o = f.get(`${key}:${id}`);
  if (!e?.length || !o?.length) return null;
  const paired = e.map((x, i) => (o[i] ? ratio(rate(x), rate(o[i]!)) : null)).filter((x): x is number => x !== null);
  return paired.length ? median(paired) : null;
}

const GOALS: Array<{ key: CommandKey; vs: SideId; target: number }> = [
  { key: 'commands1', vs: 'sqlite', target: 2 },
  { key: 'commands64', vs: 'sqlite', target: 10 },
];

export function commandTable(rounds: number, sliceMs: number, ids: CommandSideId[], f: CommandFigures, notes: string[]): Table {
  const rows: Cell[][] = [];
  for (const w of COMMAND_WORKLOADS) {
    for (const id of ids) {
      const ss = f.get(`${w.key}:${id}`);
      if (!ss?.length) continue;
      const commands = ss.reduce((n, s) => n + s.commands, 0);
      const ms = ss.reduce((n, s) => n + s.ms, 0);
      const lat = ss.flatMap((s) => s.latencies);
      const goal = GOALS.find((g) => g.key === w.key && g.vs === id);
      const paired = id === 'episteme' ? null : pairedCommandRatio(f, w.key, id);
      rows.push([w.title, COMMAND_LABELS[id], commands / (ms / 1e3), percentile(lat, 0.5), percentile(lat, 0.99), paired, goal ? `>= ${goal.target}` : null, goal && paired !== null ? (paired >= goal.target ? 'yes' : 'no') : null]);
    }
  }
  return {
    title: "streams: shopping-cart commands through Emmett's CommandHandler, durable",
    notes: [
      `${rounds} rounds of ${sliceMs} ms slices per store and workload, order rotated each round (backwards in odd rounds).`,
      "A command: CommandHandler aggregates the cart's stream, decides (8 AddProductItem, then ConfirmShoppingCart, then a new cart), appends with the version read. Latency: from a command's start to its resolve (a queued SQLite command's wait included).",
      'Episteme/this = median over rounds of the same-round ratio of commands/s (>1: Episteme faster); goals: >= 2x Emmett SQLite with 1 client, >= 10x with 64.',
      ...notes,
    ],
    columns: ['workload', 'store', 'commands/s', 'p50 µs', 'p99 µs', 'Episteme/this', 'goal', 'met'],
    rows,
  };
}

/**
 * The command workloads, round after round: each side's slice in an order
 * rotated by `turn` (the suite's), after a short warm-up per side.
 */
export async function commandRounds(
  log: (m: string) => void,
  sides: CommandSide[],
  rounds: number,
  sliceMs: number,
  turn: (r: number, k: number, n: number) => number,
  between: () => Promise<void>,
): Promise<CommandFigures> {
  const figures: CommandFigures = new Map();
  log(`commands: warm-up, then ${rounds} rounds of ${sliceMs} ms slices per store and workload`);
  for (const side of sides) for (const w of COMMAND_WORKLOADS) await commandSlice(side, Math.min(sliceMs, 50), w.clients);
  for (let r = 0; r < rounds; r++) {
    for (const w of COMMAND_WORKLOADS) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[turn(r, k, sides.length)]!;
        const key = `${w.key}:${side.id}`;
        figures.set(key, [...(figures.get(key) ?? []), await commandSlice(side, sliceMs, w.clients)]);
        await between();
      }
    }
    log(`commands: round ${r + 1}/${rounds} done`);
  }
  return figures;
}
