/**
 * The rebuild suite's rows outside the suite, with the read split from the
 * decode, to profile them (`--cpu-prof`) or compare builds by CPU time:
 *
 *   node --conditions=source --import tsx [--cpu-prof] bench/rebuildProfile.ts <what> [events]
 *
 * what: `all` (every row, interleaved, ROUNDS rounds; CPU, main-thread CPU
 * and wall per event, and the same-round ratios to the in-memory decode of
 * the same codec) or one row. The journals are written by a writer and
 * reopened by one, as in the suite; OPEN=reader opens them with
 * `Journal.openForRead` instead. The writer's open leaves the clean-close
 * check of the last segment to the background (slices on the event loop):
 * the slices it reads during each row are counted (`tail MiB`). The
 * `...Alone` rows turn the checksum worker off (no read-ahead: every record
 * is checked on the main thread, as before issue 24's read-ahead for 'crc').
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySnapshotStore, ProjectionEngine, type Projection } from '@episteme/projections';
import { Journal, nodeFileIO, setChecksumOffload, type FileIO, type JournalReader, type LogReader } from '@episteme/wal';
import { visitRecords } from '@episteme/wal/internals';
import { binary, buildEvents, countByType, countByTypeBinary, sameCounts, writeEvents, type Counts, type PackedEvents } from './lib/rebuildEvents.js';
import { mainThreadSched, median } from './lib/timing.js';

const what = process.argv[2] ?? 'all';
const events = Number(process.argv[3] ?? 1_000_000);
const rounds = Number(process.env.ROUNDS ?? 5);
const BATCH = 4096;
const TAIL_SLICE = 1024 * 1024;

let tailSlices = 0;
/** Counts the background tail check's reads: whole 1 MiB slices (the engine's reads go through the journal's own buffers, 256 KiB and 1 MiB windows too, so only during a row that reads nothing else is this exact; the runs read ahead into shared memory are not counted). */
const io: FileIO = {
  ...nodeFileIO,
  read: (fd, buf, offset, length, position) => (length === TAIL_SLICE && !(buf.buffer instanceof SharedArrayBuffer) && tailSlices++, nodeFileIO.read(fd, buf, offset, length, position)),
};

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const jsonDir = mkdtempSync(join(tmpdir(), 'episteme-rebuild-profile-'));
  const binDir = mkdtempSync(join(tmpdir(), 'episteme-rebuild-profile-bin-'));
  try {
    const { json, binary: bin, expected } = buildEvents(events);
    await writeEvents(jsonDir, json.all, json.offsets);
    await writeEvents(binDir, bin.all, bin.offsets);
    const reader = process.env.OPEN === 'reader';
    const open = (dir: string): Promise<Journal | JournalReader> => (reader ? Journal.openForRead({ dir, io }) : Journal.open({ dir, io }));
    const t0 = performance.now();
    const jsonLog = await open(jsonDir);
    const openMs = performance.now() - t0;
    const binLog = await open(binDir);
    console.log(`${events.toLocaleString('en-US')} events, JSON ${(json.all.length / events).toFixed(0)} B, binary ${(bin.all.length / events).toFixed(0)} B; opened by ${reader ? 'a reader' : 'the writer'} in ${openMs.toFixed(1)} ms`);
    await measure(jsonLog, binLog, json, bin, expected);
    await jsonLog.close();
    await binLog.close();
  } finally {
    rmSync(jsonDir, { recursive: true, force: true });
    rmSync(binDir, { recursive: true, force: true });
  }
}

async function measure(jsonLog: LogReader, binLog: LogReader, json: PackedEvents, bin: PackedEvents, expected: Counts): Promise<void> {
  const decoder = new TextDecoder();
  const check = (name: string, counts: Counts): void => {
    if (!sameCounts(counts, expected)) throw new Error(`${name}: counts differ from the events written`);
  };
  const engineOf = (log: LogReader, p: Projection<Counts, { type: string }>): ProjectionEngine => {
    const engine = new ProjectionEngine({ log, store: new InMemorySnapshotStore(), logger: { warn: (m) => console.warn(m) }, telemetry: false });
    engine.register(p);
    return engine;
  };
  const jsonEngine = engineOf(jsonLog, countByType);
  const binEngine = engineOf(binLog, countByTypeBinary);
  const readOnly = (log: LogReader, transient: boolean) => (): number => {
    let n = 0;
    for (let pos = 0; ; ) {
      const batch = log.readMany(pos, BATCH, transient ? { transient: true } : undefined);
      if (batch.length === 0) return n;
      n += batch.length;
      pos = batch[batch.length - 1]!.next;
    }
  };
  const visitOnly = (log: LogReader) => (): number => {
    let n = 0;
    const count = (): void => void n++;
    for (let pos = 0; pos < log.head; ) pos = visitRecords(log as Journal, pos, BATCH, false, count);
    return n;
  };
  const decodeOnly = (packed: PackedEvents, decode: (b: Uint8Array) => { type: string }, name: string) => (): number => {
    const counts: Counts = {};
    const { all, offsets } = packed;
    for (let i = 0; i < events; i++) {
      const e = decode(all.subarray(offsets[i], offsets[i + 1]));
      counts[e.type] = (counts[e.type] ?? 0) + 1;
    }
    check(name, counts);
    return events;
  };
  const parse = (b: Uint8Array): { type: string } => JSON.parse(decoder.decode(b)) as { type: string };
  const rebuild = (engine: ProjectionEngine, name: string) => async (): Promise<number> => {
    const report = await engine.rebuild(name);
    check(name, engine.query<Counts>(name).state);
    return report.events;
  };
  // the same row with the checksum worker off: every record checked on this thread (as before read-ahead for 'crc' readers)
  const alone = (row: () => Promise<number>) => async (): Promise<number> => {
    const before = setChecksumOffload(false);
    try {
      return await row();
    } finally {
      setChecksumOffload(before);
    }
  };
  const rows: Record<string, () => number | Promise<number>> = {
    jsonOnly: decodeOnly(json, parse, 'jsonOnly'),
    readMany: readOnly(jsonLog, false),
    readManyTransient: readOnly(jsonLog, true),
    visit: visitOnly(jsonLog),
    rebuild: rebuild(jsonEngine, countByType.name),
    rebuildAlone: alone(rebuild(jsonEngine, countByType.name)),
    binaryOnly: decodeOnly(bin, (b) => binary.decode(b), 'binaryOnly'),
    readManyBinaryTransient: readOnly(binLog, true),
    rebuildBinary: rebuild(binEngine, countByTypeBinary.name),
    rebuildBinaryAlone: alone(rebuild(binEngine, countByTypeBinary.name)),
  };
  const names = what === 'all' ? Object.keys(rows) : [what];
  const cpu: Record<string, number[]> = {};
  const main: Record<string, number[]> = {};
  const wall: Record<string, number[]> = {};
  const tail: Record<string, number> = {};
  for (let r = 0; r < rounds + 1; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const slices0 = tailSlices;
      const m0 = mainThreadSched();
      const c0 = cpuUs();
      const t0 = performance.now();
      const n = await rows[name]!();
      const w = (performance.now() - t0) * 1000;
      const c = cpuUs() - c0;
      const m1 = mainThreadSched();
      if (n !== events) throw new Error(`${name} went over ${n} of ${events} events`);
      const label = r === 0 ? `${name} (warm-up)` : name;
      tail[label] = (tail[label] ?? 0) + tailSlices - slices0;
      if (r === 0) continue;
      (cpu[name] ??= []).push((c * 1000) / n);
      (main[name] ??= []).push(m0 && m1 ? ((m1.cpuMs - m0.cpuMs) * 1e6) / n : NaN);
      (wall[name] ??= []).push((w * 1000) / n);
      await new Promise((res) => setTimeout(res, 0));
    }
  }
  const base = (name: string): string | undefined => (name.toLowerCase().includes('binary') ? 'binaryOnly' : 'jsonOnly');
  for (const name of names) {
    const b = base(name);
    const ratio = (xs: Record<string, number[]>): string => (b && xs[b] ? median(xs[name]!.map((v, i) => xs[b]![i]! / v)).toFixed(2) : '-');
    console.log(
      `${name.padEnd(24)} ns/event cpu ${median(cpu[name]!).toFixed(0).padStart(5)}  main ${median(main[name]!).toFixed(0).padStart(5)}  wall ${median(wall[name]!).toFixed(0).padStart(5)}  / ${b}: cpu ${ratio(cpu)} main ${ratio(main)} wall ${ratio(wall)}`,
    );
  }
  const tailRead = Object.entries(tail).filter(([, n]) => n > 0);
  console.log(`tail check slices (1 MiB) read during: ${tailRead.length ? tailRead.map(([k, n]) => `${k} ${n}`).join(', ') : 'no row'}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
