/**
 * The peers suite's sequential-read rows outside the suite, to profile them
 * (`--cpu-prof`) or compare builds by CPU time (wall time moves with the
 * other work on a shared machine):
 *
 *   node --conditions=source --import tsx [--cpu-prof] bench/readProfile.ts <what> [dir]
 *
 * what: `fill` (48 MiB of Episteme log and the same rows in better-sqlite3
 * and classic-level per payload size, into `dir`), `all` (every reader, interleaved, ROUNDS
 * rounds; prints CPU and wall per record, minor page faults per record, the
 * collections V8 ran during the reads and the ratios to SQLite's `iterate()`),
 * `suite` (the peers suite's seven read rows in its order, rotated each round
 * as it does, LevelDB's rounds after the others': its conditions in a process
 * of its own), `suite-rotated` (the seven in one rotation, as the suite ran
 * them before: the row after LevelDB's paid for its garbage), or one reader: `sqlite`, `readMany`, `readFrom`,
 * `readMany-transient`, `readFrom-transient` (`{ transient: true }`), `visit`, `level`, `raw`.
 * Env: PAYLOADS (default 256,4096), ROUNDS (default 5), LOG_MIB (default 48).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { visitRecords } from '@episteme/wal/internals';
import { Journal } from '@episteme/wal';
import { fill, readAll, recordsFor, type ReadMethod } from './lib/peers/datasets.js';
import { installPeersOrThrow } from './lib/peers/install.js';
import { PayloadPool } from './lib/peers/payloads.js';

const what = process.argv[2] ?? 'all';
const root = process.argv[3] ?? join(tmpdir(), 'episteme-read-profile');
const payloads = (process.env.PAYLOADS ?? '256,4096').split(',').map(Number);
const rounds = Number(process.env.ROUNDS ?? 5);
const logBytes = Number(process.env.LOG_MIB ?? 48) * 1024 * 1024;

type Reader = ReadMethod | 'visit';
const READERS: Reader[] = ['sqlite', 'episteme-readMany', 'episteme-readFrom', 'episteme-readMany-transient', 'episteme-readFrom-transient', 'visit'];
/** The peers suite's read rows, in its order (bench/lib/peers/rows.ts): `suite` rotates them as its rounds do. */
const SUITE: Reader[] = ['episteme-readFrom', 'episteme-readMany', 'episteme-readFrom-transient', 'episteme-readMany-transient', 'sqlite', 'level', 'raw'];

/** V8's collections as the observer reports them (after the fact): start, duration, kind (1: scavenge). */
const gcs: Array<{ at: number; ms: number; kind: number }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ at: e.startTime, ms: e.duration, kind: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0 });
}).observe({ entryTypes: ['gc'] });

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function visitAll(dir: string): Promise<{ records: number; bytes: number }> {
  const journal = await Journal.openForRead({ dir: join(dir, 'journal') });
  let records = 0;
  let bytes = 0;
  try {
    for (let pos = 0, first = true; ; first = false) {
      const next = visitRecords(journal, pos, 4096, !first, (_b, _at, len) => {
        records++;
        bytes += len;
      });
      if (next === pos) break;
      pos = next;
    }
  } finally {
    await journal.close();
  }
  return { records, bytes };
}

async function once(reader: Reader, dir: string): Promise<{ records: number; cpu: number; wall: number; faults: number; scavenges: number; fullGcs: number; gcMs: number }> {
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = cpuUs();
  const t0 = performance.now();
  const got = reader === 'visit' ? await visitAll(dir) : await readAll(reader, dir);
  const t1 = performance.now();
  const cpu = cpuUs() - c0;
  const faults = process.resourceUsage().minorPageFault - f0;
  await new Promise((resolve) => setTimeout(resolve, 1)); // the observer's entries arrive on a later turn
  const during = gcs.filter((g) => g.at >= t0 && g.at < t1);
  const scavenges = during.filter((g) => g.kind === 1).length;
  return { records: got.records, cpu, wall: (t1 - t0) * 1000, faults, scavenges, fullGcs: during.length - scavenges, gcMs: during.reduce((sum, g) => sum + g.ms, 0) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  installPeersOrThrow(); // better-sqlite3 and classic-level live in bench/peers
  for (const payload of payloads) {
    const dir = join(root, String(payload));
    if (what === 'fill') {
      if (existsSync(join(dir, 'journal'))) continue;
      mkdirSync(dir, { recursive: true });
      const records = recordsFor(logBytes, payload);
      const pool = new PayloadPool(payload);
      await fill('episteme', dir, pool, records);
      await fill('sqlite', dir, pool, records);
      await fill('level', dir, pool, records);
      console.log(`${payload} B: ${records} records in ${dir}`);
      continue;
    }
    const suite = what === 'suite' || what === 'suite-rotated';
    const readers = what === 'all' ? READERS : suite ? SUITE : [(what.startsWith('readMany') || what.startsWith('readFrom') ? `episteme-${what}` : what) as Reader];
    // suite: LevelDB's rounds after the others', as the suite runs them; suite-rotated: all seven in one rotation (the suite before)
    const groups = what === 'suite' ? [readers.filter((r) => r !== 'level'), readers.filter((r) => r === 'level')] : [readers];
    const cpu = new Map<Reader, number[]>();
    const wall = new Map<Reader, number[]>();
    const faults = new Map<Reader, number[]>();
    const collections = new Map<Reader, { scavenges: number; fullGcs: number; gcMs: number }>();
    let records = 0;
    for (const group of groups) {
      for (const r of group) await once(r, dir); // warm-up
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < group.length; k++) {
          const r = group[suite ? (round + k) % group.length : k]!;
          const x = await once(r, dir);
          if (x.records > 0) records = x.records;
          else x.records = records; // raw: bytes only, per record of the same log
          (cpu.get(r) ?? cpu.set(r, []).get(r)!).push(x.cpu / x.records);
          (wall.get(r) ?? wall.set(r, []).get(r)!).push(x.wall / x.records);
          (faults.get(r) ?? faults.set(r, []).get(r)!).push(x.faults / x.records);
          const c = collections.get(r) ?? collections.set(r, { scavenges: 0, fullGcs: 0, gcMs: 0 }).get(r)!;
          c.scavenges += x.scavenges;
          c.fullGcs += x.fullGcs;
          c.gcMs += x.gcMs;
        }
      }
    }
    const base = cpu.get('sqlite');
    const baseWall = wall.get('sqlite');
    console.log(`${payload} B payloads, ${records} records, ${rounds} rounds (µs per record, medians; ratio = SQLite / this, >1 faster)`);
    for (const r of readers) {
      const c = median(cpu.get(r)!);
      const w = median(wall.get(r)!);
      // paired: same-round ratios
      const pc = base ? median(cpu.get(r)!.map((x, i) => base[i]! / x)) : NaN;
      const pw = baseWall ? median(wall.get(r)!.map((x, i) => baseWall[i]! / x)) : NaN;
      const pf = median(faults.get(r)!);
      console.log(`  ${r.padEnd(27)} cpu ${c.toFixed(3)} µs  wall ${w.toFixed(3)} µs  ratio cpu ${pc.toFixed(2)}  wall ${pw.toFixed(2)}  (${(1 / w).toFixed(3)} M rec/s, ${pf.toFixed(2)} minor faults/record; ${collections.get(r)!.scavenges} scavenges, ${collections.get(r)!.fullGcs} full collections in all rounds, their pauses ${((collections.get(r)!.gcMs * 1000) / (rounds * records)).toFixed(3)} µs/record)`);
    }
  }
}

await main();
