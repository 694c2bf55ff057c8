/**
 * A writer to be killed: opens the stores named on the command line as a
 * writer would, prints `ready`, appends batches to each in turn (unsynced:
 * the OS has the bytes, so a SIGKILL loses nothing the store acknowledged,
 * but every store is left mid-stream, without its clean close), prints
 * `appending` after the first round, and waits to be killed with SIGKILL.
 *
 * Bundled and run by the peers suite (children.ts): node crashChild.mjs '<json>'
 * It exits by itself when its stdin closes (the suite went away) or after
 * two minutes, so that it can never outlive an interrupted benchmark.
 */
import { Journal } from '@episteme/wal';
import { join } from 'node:path';
import { PayloadPool } from './payloads.js';
import { levelKey, levelNextId, openLevel, openSqlite } from './stores.js';

export interface CrashChildArgs {
  /** One directory per store, as the datasets module lays them out. */
  stores: Array<{ store: 'episteme' | 'sqlite' | 'level'; dir: string; payloadBytes: number }>;
  /** Stop appending to a store after this many payload bytes (then only wait). */
  maxBytesPerStore: number;
}

type Writer = (ps: Buffer[]) => Promise<unknown> | void;

async function openWriter(store: CrashChildArgs['stores'][number]['store'], dir: string): Promise<Writer> {
  if (store === 'episteme') {
    // Headers-only open: this process's open time is not measured, the next one's is.
    const journal = await Journal.open({ dir: join(dir, 'journal'), durability: 'none', scanSealedOnOpen: false });
    return (ps) => journal.appendBatch(ps);
  }
  if (store === 'sqlite') {
    const db = openSqlite(dir, 'NORMAL');
    const insert = db.prepare('INSERT INTO events (payload) VALUES (?)');
    return db.transaction((ps: Buffer[]) => {
      for (const p of ps) insert.run(p);
    });
  }
  const db = await openLevel(dir);
  let next = await levelNextId(db);
  return (ps) =>
    db.batch(
      ps.map((p) => ({ type: 'put' as const, key: levelKey(next++), value: p })),
      { sync: false },
    );
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as CrashChildArgs;
  process.stdin.resume();
  process.stdin.on('close', () => process.exit(3));
  setTimeout(() => process.exit(4), 120_000).unref();
  const keepAlive = setInterval(() => undefined, 1000);

  const writers = await Promise.all(args.stores.map((s) => openWriter(s.store, s.dir)));
  process.stdout.write('ready\n');
  const pools = args.stores.map((s) => new PayloadPool(s.payloadBytes));
  const written = writers.map(() => 0);
  for (let round = 0; ; round++) {
    let any = false;
    for (let w = 0; w < writers.length; w++) {
      if (written[w]! >= args.maxBytesPerStore) continue;
      const { payloadBytes } = args.stores[w]!;
      const ps: Buffer[] = [];
      for (let k = 0; k < Math.max(1, Math.floor((256 * 1024) / payloadBytes)); k++) ps.push(pools[w]!.next());
      await writers[w]!(ps);
      written[w]! += ps.length * payloadBytes;
      any = true;
    }
    if (round === 0) process.stdout.write('appending\n');
    if (!any) break;
    await new Promise((r) => setImmediate(r));
  }
  process.stdout.write('done\n');
  void keepAlive; // wait for SIGKILL
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
