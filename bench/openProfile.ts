/**
 * The peers suite's "open after a clean close" row outside the suite, to see
 * where an open's time goes (issue 24, part 3):
 *
 *   node --conditions=source --import tsx bench/openProfile.ts <MiB> [dir] [rounds]
 *
 * Fills `dir` (a fresh temp directory when absent) with a journal of <MiB> of
 * 4 KiB records and a classic-level database of the same records (as the
 * peers suite does), then, round after round, times a default
 * `Journal.open` after a clean close next to classic-level's open + last
 * key: wall time and CPU time back to back, and each FileIO call of the open
 * by kind (count, bytes, ms), so that what is not the clean-close check
 * (listing, headers, lock, syncs, the recovery point) shows. A reader's open
 * (`Journal.openForRead`, which takes the last segment by the last record
 * its mark names) is timed beside them, with its FileIO calls.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, nodeFileIO, type FileIO } from '@episteme/wal';
import { fill, recordsFor, timedOpen } from './lib/peers/datasets.js';
import { installPeersOrThrow } from './lib/peers/install.js';
import { PayloadPool } from './lib/peers/payloads.js';

const MiB = 1024 * 1024;
const mib = Number(process.argv[2] ?? 48);
const dir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'episteme-open-profile-'));
const rounds = Number(process.argv[4] ?? 7);
const payload = 4096;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Calls { n: number; bytes: number; ms: number }

/** nodeFileIO that counts each call by method: how many, bytes moved, time spent. */
function countingIO(): { io: FileIO; calls: Map<string, Calls> } {
  const calls = new Map<string, Calls>();
  const io: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(nodeFileIO)) {
    io[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      const out = (fn as (...a: unknown[]) => unknown)(...args);
      const c = calls.get(name) ?? { n: 0, bytes: 0, ms: 0 };
      c.n++;
      c.ms += performance.now() - t0;
      if ((name === 'read' || name === 'write') && typeof out === 'number') c.bytes += out;
      calls.set(name, c);
      return out;
    };
  }
  return { io: io as unknown as FileIO, calls };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  installPeersOrThrow(); // better-sqlite3 and classic-level live in bench/peers
  if (!existsSync(join(dir, 'journal'))) {
    const records = recordsFor(mib * MiB, payload);
    const pool = new PayloadPool(payload);
    console.log(`filling ${dir}: ${records} records of ${payload} B`);
    await fill('episteme', dir, pool, records);
    await fill('level', dir, pool, records);
  }
  const wall: number[] = [];
  const cpu: number[] = [];
  const level: number[] = [];
  const readerWall: number[] = [];
  const readerCpu: number[] = [];
  let last: Map<string, Calls> | undefined;
  let lastReader: Map<string, Calls> | undefined;
  for (let r = 0; r < rounds; r++) {
    const { io, calls } = countingIO();
    const c0 = cpuMs();
    const t0 = performance.now();
    const j = await Journal.open({ dir: join(dir, 'journal'), io });
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
    const atOpen = new Map([...calls].map(([k, v]) => [k, { ...v }]));
    const trusted = j.recovery.lastSegmentTrusted;
    await j.close();
    last = atOpen;
    level.push((await timedOpen('level', dir)).ms);
    const counted = countingIO();
    const rc0 = cpuMs();
    const rt0 = performance.now();
    const reader = await Journal.openForRead({ dir: join(dir, 'journal'), io: counted.io });
    readerWall.push(performance.now() - rt0);
    readerCpu.push(cpuMs() - rc0);
    lastReader = new Map([...counted.calls].map(([k, v]) => [k, { ...v }]));
    await reader.close();
    if (r === 0) console.log(`lastSegmentTrusted: ${String(trusted)}, segments: ${j.recovery.segments.length}`);
  }
  console.log(`${mib} MiB: Journal.open wall ${median(wall).toFixed(2)} ms, cpu ${median(cpu).toFixed(2)} ms; classic-level open ${median(level).toFixed(2)} ms (medians of ${rounds})`);
  console.log(`  walls ${wall.map((x) => x.toFixed(1)).join(' ')} | level ${level.map((x) => x.toFixed(1)).join(' ')}`);
  printCalls(last!);
  console.log(`${mib} MiB: Journal.openForRead wall ${median(readerWall).toFixed(2)} ms, cpu ${median(readerCpu).toFixed(2)} ms (walls ${readerWall.map((x) => x.toFixed(1)).join(' ')})`);
  printCalls(lastReader!);
}

function printCalls(calls: Map<string, Calls>): void {
  for (const [name, c] of [...calls].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${name.padEnd(10)} ${String(c.n).padStart(5)} calls ${(c.bytes / MiB).toFixed(2).padStart(8)} MiB ${c.ms.toFixed(2).padStart(8)} ms`);
  }
}

await main();
