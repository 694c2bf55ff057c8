/**
 * The peers suite's sequential-read rows outside the suite, to profile them
 * (`--cpu-prof`) or compare builds by CPU time (wall time moves with the
 * other work on a shared machine):
 *
 *   node --conditions=source --import tsx [--cpu-prof] bench/readProfile.ts <what> [dir]
 *
 * what: `fill` (48 MiB of Episteme log and the same rows in better-sqlite3
 * per payload size, into `dir`), `all` (every reader, interleaved, ROUNDS
 * rounds; prints CPU and wall per record, minor page faults per record and
 * the ratios to SQLite's `iterate()`), or one reader: `sqlite`, `readMany`, `readFrom`,
 * `readMany-transient`, `readFrom-transient` (`{ transient: true }`), `visit`.
 * Env: PAYLOADS (default 256,4096), ROUNDS (default 5), LOG_MIB (default 48).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

async function once(reader: Reader, dir: string): Promise<{ records: number; cpu: number; wall: number; faults: number }> {
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = cpuUs();
  const t0 = performance.now();
  const got = reader === 'visit' ? await visitAll(dir) : await readAll(reader, dir);
  return { records: got.records, cpu: cpuUs() - c0, wall: (performance.now() - t0) * 1000, faults: process.resourceUsage().minorPageFault - f0 };
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
      console.log(`${payload} B: ${records} records in ${dir}`);
      continue;
    }
    const readers = what === 'all' ? READERS : [(what.startsWith('readMany') || what.startsWith('readFrom') ? `episteme-${what}` : what) as Reader];
    for (const r of readers) await once(r, dir); // warm-up
    const cpu = new Map<Reader, number[]>();
    const wall = new Map<Reader, number[]>();
    const faults = new Map<Reader, number[]>();
    let records = 0;
    for (let round = 0; round < rounds; round++) {
      for (const r of readers) {
        const x = await once(r, dir);
        records = x.records;
        (cpu.get(r) ?? cpu.set(r, []).get(r)!).push(x.cpu / x.records);
        (wall.get(r) ?? wall.set(r, []).get(r)!).push(x.wall / x.records);
        (faults.get(r) ?? faults.set(r, []).get(r)!).push(x.faults / x.records);
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
      console.log(`  ${r.padEnd(27)} cpu ${c.toFixed(3)} µs  wall ${w.toFixed(3)} µs  ratio cpu ${pc.toFixed(2)}  wall ${pw.toFixed(2)}  (${(1 / w).toFixed(3)} M rec/s, ${pf.toFixed(2)} minor faults/record)`);
    }
  }
}

await main();
