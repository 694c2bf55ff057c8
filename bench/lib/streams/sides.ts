import { join } from 'node:path';
import { openEventStore, type Event, type LocalEventStore } from '@episteme/store';
import type { DumboPool, EmmettEvent, EmmettEventStore, PeersModule, SQLiteConnection } from './peersPackage.js';

/**
 * The three event stores of the streams suite behind one small interface,
 * so that every workload is written once and does the same logical work on
 * each: append with an expected version, read a stream, fold a stream,
 * read every event from the start.
 */
export type SideId = 'episteme' | 'sqlite' | 'postgres';

export interface BenchEvent {
  type: string;
  data: { order: number; sku: string; quantity: number; amount: number; note: string };
}

export interface Side {
  id: SideId;
  label: string;
  /** Appends with an expected version (the stream's version as the caller knows it); resolves to the next one. */
  append(stream: string, events: BenchEvent[], expected: number): Promise<number>;
  /** Reads the whole stream; resolves to its number of events. */
  readStream(stream: string): Promise<number>;
  /** Folds the stream (sum of the amounts); resolves to the sum. */
  aggregate(stream: string): Promise<number>;
  /** Reads every event from global position 0; resolves to the number read. */
  catchUp(): Promise<number>;
  close(): Promise<void>;
  /** Appends that failed for a reason of the store's own (not a conflict) and were made again. */
  retried: number;
}

export const SIDE_LABELS: Record<SideId, string> = {
  episteme: 'Episteme @episteme/store',
  sqlite: 'Emmett SQLite',
  postgres: 'Emmett PostgreSQL',
};

/** Batch size of the peers' catch-up reads (Emmett's consumers pull 100 at a time, with a pause between batches). */
const CATCH_UP_BATCH = 1000;

const sumAmounts = (n: number, e: { data: unknown }): number => n + (e.data as BenchEvent['data']).amount;

/** Episteme with the durability the goals are stated for: `immediate`, group commit on (one append per sync when alone). */
export async function openEpisteme(dir: string, fill = false): Promise<Side & { store: LocalEventStore }> {
  // fill: the datasets for the read rows are written unsynced (what is measured on them are reads)
  const store = await openEventStore(fill ? { dir, durability: 'none' } : { dir, durability: 'immediate', groupCommit: true });
  return {
    id: 'episteme',
    label: SIDE_LABELS.episteme,
    retried: 0,
    store,
    append: async (stream, events, expected) => (await store.appendToStream(stream, events as Event[], { expectedVersion: expected })).nextExpectedVersion,
    readStream: async (stream) => (await store.readStream(stream)).events.length,
    aggregate: async (stream) => (await store.aggregateStream(stream, { initialState: () => 0, evolve: sumAmounts })).state,
    catchUp: async () => {
      let n = 0;
      for await (const e of store.readAll(0)) if (e.globalPosition >= 0) n++;
      return n;
    },
    close: () => store.close(),
  };
}

/**
 * One append at a time, in call order. Emmett's SQLite store opens a
 * connection per operation and sets no busy timeout, so two appends at once
 * fail with SQLITE_BUSY ("database is locked") and the failed BEGIN then
 * fails its ROLLBACK too (measured: nearly every one of 64 concurrent
 * appenders). An app with concurrent writers has to queue its appends like
 * this; the queue costs a promise per append.
 */
export function serialized<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return (...args) => {
    const result = tail.then(() => fn(...args));
    tail = result.catch(() => undefined);
    return result;
  };
}

function emmettSide(id: SideId, store: EmmettEventStore, readBatch: (range: { from: bigint; batchSize: number } | { after: bigint; batchSize: number }) => Promise<{ messages: unknown[]; currentGlobalPosition: bigint }>, close: () => Promise<void>): Side {
  const once = async (stream: string, events: BenchEvent[], expected: number): Promise<number> =>
    Number((await store.appendToStream(stream, events as EmmettEvent[], { expectedStreamVersion: BigInt(expected) })).nextExpectedStreamVersion);
  const side: Side = {
    id,
    label: SIDE_LABELS[id],
    retried: 0,
    append: once,
    readStream: async (stream) => (await store.readStream(stream)).events.length,
    aggregate: async (stream) => (await store.aggregateStream(stream, { initialState: () => 0, evolve: sumAmounts })).state,
    catchUp: async () => {
      // Emmett's own catch-up path (its consumers' readMessagesBatch) in a tight loop, without
      // the consumer's pause between batches (50 ms, 100 events per batch by default)
      let n = 0;
      let batch = await readBatch({ from: 0n, batchSize: CATCH_UP_BATCH });
      while (batch.messages.length > 0) {
        n += batch.messages.length;
        batch = await readBatch({ after: batch.currentGlobalPosition, batchSize: CATCH_UP_BATCH });
      }
      return n;
    },
    close,
  };
  if (id === 'sqlite') {
    /*
     * About one commit in a thousand fails in Emmett's SQLite store with
     * SQLITE_BUSY "cannot commit transaction - SQL statements in progress"
     * (measured: 1 of 1,000 sequential appends), even one append at a time:
     * its INSERT ... RETURNING runs through node-sqlite3's `get`, whose
     * statement is finalized asynchronously, and COMMIT can come first.
     * Emmett then rolls the transaction back, so nothing was written and the
     * same append (same expected version) can be made again: the bench
     * retries it, counts it, and the tables say how many.
     */
    side.append = serialized(async (stream, events, expected) => {
      // Emmett prints the failed transaction's error with console.log; stdout holds only the tables,
      // so while its append runs (one at a time, and the bench prints its tables only at the end) it goes to stderr
      const log = console.log;
      console.log = console.error;
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return await once(stream, events, expected);
          } catch (err) {
            if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 5) throw err;
            side.retried++;
          }
        }
      } finally {
        console.log = log;
      }
    });
    side.close = async () => {
      // statements Emmett left to finalize must not meet a deleted file (node-sqlite3 then throws from an event)
      await new Promise((r) => setTimeout(r, 200));
      await close();
    };
  }
  return side;
}

/**
 * Emmett's SQLite event store as it configures itself: a file database in
 * WAL mode, a new connection per operation (its pool's default for a file),
 * SQLite's default synchronous level. `fill` instead shares one connection
 * with synchronous=OFF, only to write the read datasets in reasonable time.
 */
export async function openSQLite(peers: PeersModule, dir: string, fill = false): Promise<Side & { synchronous: string }> {
  const fileName = join(dir, 'events.db');
  let shared: SQLiteConnection | undefined;
  if (fill) {
    shared = peers.sqliteConnection({ fileName });
    await shared.command('PRAGMA synchronous = OFF');
  }
  const store = peers.getSQLiteEventStore(shared ? { fileName, connectionOptions: { singleton: true, connection: shared } } : { fileName });
  // the schema is created by the first operation; readStream of nothing creates it, and a fresh
  // connection then says which synchronous level Emmett's connections run with
  await store.readStream('schema-probe');
  const probe = peers.sqliteConnection({ fileName });
  const row = await probe.querySingle<{ synchronous: number }>('PRAGMA synchronous');
  const mode = await probe.querySingle<{ journal_mode: string }>('PRAGMA journal_mode');
  probe.close();
  const levels = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
  const synchronous = `journal_mode=${mode?.journal_mode ?? '?'}, synchronous=${levels[row?.synchronous ?? -1] ?? String(row?.synchronous)}`;
  return {
    ...emmettSide('sqlite', store, async (range) => {
      const c = shared ?? peers.sqliteConnection({ fileName });
      try {
        return await peers.readSQLiteMessagesBatch(c, range);
      } finally {
        if (!shared) c.close();
      }
    }, async () => shared?.close()),
    synchronous,
  };
}

/**
 * Emmett's PostgreSQL event store on its default pool (node-postgres, 10
 * connections). The dumbo pool is made here with the same options Emmett
 * would use, only to hand its executor to the catch-up reads as well.
 * `fill` connects with synchronous_commit off for the read datasets.
 */
export function openPostgres(peers: PeersModule, connectionString: string, fill = false): Side {
  const url = fill ? `${connectionString}?options=${encodeURIComponent('-c synchronous_commit=off')}` : connectionString;
  const pool: DumboPool = peers.dumbo({ connectionString: url });
  const store = peers.getPostgreSQLEventStore(url, { connectionOptions: { dumbo: pool } });
  return emmettSide('postgres', store, (range) => peers.readPostgreSQLMessagesBatch(pool.execute, range), () => store.close());
}
