/**
 * The consumers suite's catch-up rows outside the suite, to profile them
 * (`--cpu-prof`) or compare builds by CPU time:
 *
 *   node --conditions=source --import tsx [--cpu-prof] bench/consumerProfile.ts <what> [records]
 *
 * what: `all` (readMany and the runner rows interleaved, ROUNDS rounds;
 * CPU and wall per record, and per commit), or one row: `readMany`,
 * `readManyHandler` (the loop handing each record to the no-op handler),
 * `readManyYield` (the loop yielding to the event loop every 10 ms, as the
 * runner does), `handler`, `atEnd`, `readManyTransient`, `handlerTransient` (`transient: true`,
 * `transientRecords: true`), `cleanup` (the default options: commit every
 * 1,000 records or 1 s, and the default registry, which runs cleanup after
 * each commit; another consumer at 0 holds the log). The consumer is registered and reset before the
 * timing: the rows time `runConsumer` alone. SYNC_FIRST=1 syncs the
 * generated journal before the rows; FAKE_SYNC=1 see below; PAYLOAD (bytes,
 * default 256).
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsumerRegistry, runConsumer, type RunOptions } from '@episteme/consumers';
import { Journal, nodeFileIO, type FileIO } from '@episteme/wal';
import { HEADER_SIZE, RECORD_OVERHEAD } from '@episteme/wal/internals';
import { generateJournal, SEGMENT_BYTES } from './lib/journal.js';
import { mainThreadSched, median } from './lib/timing.js';

const what = process.argv[2] ?? 'all';
const records = Number(process.argv[3] ?? 1_000_000);
const rounds = Number(process.env.ROUNDS ?? 5);
const PAYLOAD = Number(process.env.PAYLOAD ?? 256);

const dir = mkdtempSync(join(tmpdir(), 'episteme-consumer-profile-'));
let syncs = 0;
/** FAKE_SYNC=1: the runner's syncs take 2 ms without touching the disk (what the commits cost besides the sync). */
const fake = process.env.FAKE_SYNC === '1';
const io: FileIO = {
  ...nodeFileIO,
  fsync: (fd) => (syncs++, fake ? undefined : nodeFileIO.fsync(fd)),
  fsyncAsync: (fd) => (syncs++, fake ? new Promise<void>((r) => setTimeout(r, 2)) : nodeFileIO.fsyncAsync(fd)),
};

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const recordBytes = RECORD_OVERHEAD + PAYLOAD;
  // a header and a spare record per segment, as the consumers suite sizes it (a fixed four did not hold past four segments)
  const segments = Math.ceil((records * recordBytes) / SEGMENT_BYTES);
  generateJournal(dir, { payloadBytes: PAYLOAD, totalBytes: records * recordBytes + segments * (HEADER_SIZE + recordBytes) });
  if (process.env.SYNC_FIRST === '1') execSync('sync');
  const journal = await Journal.open({ dir });
  const registry = ConsumerRegistry.forJournal(journal, { io, autoCleanup: false });
  // the default registry: cleanup after each commit that moved a cursor (it reads every consumer's durable
  // cursor); a consumer left at 0 holds every segment, so that the rounds can read them again
  const cleaning = ConsumerRegistry.forJournal(journal, { io });
  cleaning.register('p-holder');
  const noop = (_record?: unknown): void => undefined;
  const runner = (key: string, options: RunOptions, over = registry) => {
    over.register(key);
    return {
      before: () => over.reset(key, 0),
      run: async (): Promise<number> => (await runConsumer(over, key, { stopAtHead: true, ...options })).handled,
    };
  };
  const rows: Record<string, { before?: () => void; run: () => number | Promise<number> }> = {
    readMany: {
      run: () => {
        let n = 0;
        for (let pos = 0; ; ) {
          const batch = journal.readMany(pos, 256);
          if (batch.length === 0) return n;
          n += batch.length;
          pos = batch[batch.length - 1]!.next;
        }
      },
    },
    // the readMany loop handing each record to the no-op handler, as any consumer must: what the runner adds beyond that
    readManyHandler: {
      run: () => {
        let n = 0;
        for (let pos = 0; ; ) {
          const batch = journal.readMany(pos, 256);
          if (batch.length === 0) return n;
          for (let i = 0; i < batch.length; i++) noop(batch[i]!);
          n += batch.length;
          pos = batch[batch.length - 1]!.next;
        }
      },
    },
    // the readMany loop with the runner's yields (two setImmediate turns every 10 ms): what yielding alone costs
    readManyYield: {
      run: async () => {
        let n = 0;
        let last = performance.now();
        for (let pos = 0; ; ) {
          const batch = journal.readMany(pos, 256);
          if (batch.length === 0) return n;
          n += batch.length;
          pos = batch[batch.length - 1]!.next;
          if (performance.now() - last >= 10) {
            await new Promise((r) => setImmediate(r));
            await new Promise((r) => setImmediate(r));
            last = performance.now();
          }
        }
      },
    },
    readManyTransient: {
      run: () => {
        let n = 0;
        for (let pos = 0; ; ) {
          const batch = journal.readMany(pos, 256, { transient: true });
          if (batch.length === 0) return n;
          n += batch.length;
          pos = batch[batch.length - 1]!.next;
        }
      },
    },
    handler: runner('p-handler', { handler: noop, commitEveryRecords: 1000 }),
    handlerTransient: runner('p-handler-t', { handler: noop, commitEveryRecords: 1000, transientRecords: true }),
    cleanup: runner('p-cleanup', { handler: noop }, cleaning),
    atEnd: runner('p-end', { handler: noop, commitEveryRecords: 1e9, commitEveryMs: 2 ** 31 - 1 }),
  };
  const names = what === 'all' ? Object.keys(rows) : [what];
  const cpu: Record<string, number[]> = {};
  const wall: Record<string, number[]> = {};
  const commits: Record<string, number[]> = {};
  const main: Record<string, number[]> = {};
  /** THREADS=1: CPU ms of the other threads (V8's GC helpers, the libuv pool, workers) per row, summed over the rounds. */
  const threads = process.env.THREADS === '1';
  const threadMs: Record<string, Map<string, number>> = {};
  for (let r = 0; r < rounds + 1; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const row = rows[name]!;
      row.before?.();
      const s0 = syncs;
      const t0s = threads ? otherThreadsMs() : undefined;
      const m0 = mainThreadSched();
      const c0 = cpuUs();
      const t0 = performance.now();
      (globalThis as any).__T = undefined;
      const n = await row.run();
      const T = (globalThis as any).__T;
      if (T && r > 0) console.log(name, Object.entries(T).map(([k, v]) => `${k} ${k === 'n' ? v : ((v as number) * 1000 / T.n).toFixed(1)}`).join(' '));
      const w = (performance.now() - t0) * 1000;
      const c = cpuUs() - c0;
      const m1 = mainThreadSched();
      if (t0s && r > 0) {
        const perRow = (threadMs[name] ??= new Map());
        for (const [tid, ms] of otherThreadsMs()) perRow.set(tid, (perRow.get(tid) ?? 0) + ms - (t0s.get(tid) ?? 0));
      }
      if (n < records) throw new Error(`${name} read ${n} of ${records}`);
      if (r === 0) continue; // warm-up
      (cpu[name] ??= []).push(c / n);
      (wall[name] ??= []).push(w / n);
      (commits[name] ??= []).push(syncs - s0);
      (main[name] ??= []).push(m0 && m1 ? ((m1.cpuMs - m0.cpuMs) * 1000) / n : NaN);
    }
  }
  await journal.close();
  for (const name of names) {
    const ratio = (xs: Record<string, number[]>) => (xs.readMany ? median(xs[name]!.map((v, i) => xs.readMany![i]! / v)).toFixed(2) : '-');
    console.log(
      `${name.padEnd(17)} cpu ${median(cpu[name]!).toFixed(3)} us/rec  main ${median(main[name]!).toFixed(3)}  wall ${median(wall[name]!).toFixed(3)} us/rec  syncs ${median(commits[name]!)}  / readMany: cpu ${ratio(cpu)} main ${ratio(main)} wall ${ratio(wall)}`,
    );
    if (threads) console.log(`  other threads, ms over ${rounds} rounds: ${[...threadMs[name]!].filter(([, ms]) => ms > 0).map(([tid, ms]) => `${tid} ${ms}`).join(', ')}`);
  }
}

/** CPU ms of each thread of this process but the main one (utime + stime from /proc, 10 ms ticks). */
function otherThreadsMs(): Map<string, number> {
  const byTid = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    if (tid === String(process.pid)) continue;
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    byTid.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return byTid;
}

main()
  .finally(() => rmSync(dir, { recursive: true, force: true }))
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
