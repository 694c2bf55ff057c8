import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '@episteme/wal';
import { scheduleMarkdownReport } from '../report.js';
import { appendSlice, type Slice } from '../lib/peers/appendSlices.js';
import { installPeers } from '../lib/peers/install.js';
import { bundleChildren, startChild } from '../lib/peers/children.js';
import type { CrashChildArgs } from '../lib/peers/crashChild.js';
import { fill, readAll, recordsFor, timedOpen, type OpenMethod, type ReadMethod } from '../lib/peers/datasets.js';
import { OPENS, READS } from '../lib/peers/rows.js';
import { describeMachine } from '../lib/peers/machine.js';
import { memoryCheck, RSS_GOAL_MB } from '../lib/peers/memory.js';
import { PayloadPool } from '../lib/peers/payloads.js';
import { CONTENDERS, type Contender, type Workload } from '../lib/peers/stores.js';
import { ratio } from '../lib/table.js';
import { signalCheckpoint } from '../lib/tempDirs.js';
import { median } from '../lib/timing.js';
import type { BenchContext, Cell, Mode, Table } from '../lib/types.js';

/**
 * Episteme side by side with better-sqlite3 (WAL) and classic-level
 * (LevelDB), and with the raw node:fs limit, doing the same logical work
 * (issue 7): durable appends with one and with 64 appenders, unsynced
 * appends, a full read from the start, and open times after a clean close
 * and after a SIGKILL; then the peak RSS of reading a large journal and of
 * rebuilding a projection over it, each in a child process.
 *
 * The disk of this VM alternates between fast and slow phases of 10-30 s
 * (shared/notes/disk-and-peers.md), so every comparison is made in short
 * slices interleaved round after round, the order rotated each round, and a
 * ratio is the median of per-round ratios (neighbours in time), not a ratio
 * of medians. Page cache warm throughout (files just written): the open and
 * read figures measure CPU and the stores' own I/O patterns, not the disk.
 */
export const name = 'peers';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const PAYLOADS = [256, 4096];
const GROUP_APPENDERS = 64;

interface Sizes {
  rounds: number;
  /** Slice of a synced append workload, ms. */
  diskMs: number;
  /** Slice of the unsynced append workload, ms. */
  cpuMs: number;
  /** Episteme log size of the read / open datasets (per store, per payload size). */
  log: number;
  /** Full: one round, since one read of 1 GiB already lasts 5-30 s (spans the disk's phases) and a round costs ~2 min. */
  readRounds: number;
  openRounds: number;
  kills: number;
  /** How long the killed writer appends before SIGKILL, ms (it stops at crashBytes). */
  killAfterMs: number;
  crashBytes: number;
  /** Size of the JSON journal read and rebuilt for peak RSS. */
  memoryLog: number;
}

const SIZES: Record<Mode, Sizes> = {
  full: { rounds: 7, diskMs: 400, cpuMs: 150, log: 1 * GiB, readRounds: 1, openRounds: 2, kills: 2, killAfterMs: 500, crashBytes: 64 * MiB, memoryLog: 2 * GiB },
  quick: { rounds: 3, diskMs: 150, cpuMs: 80, log: 48 * MiB, readRounds: 3, openRounds: 2, kills: 1, killAfterMs: 200, crashBytes: 16 * MiB, memoryLog: 128 * MiB },
  smoke: { rounds: 1, diskMs: 25, cpuMs: 15, log: 1 * MiB, readRounds: 1, openRounds: 1, kills: 1, killAfterMs: 30, crashBytes: 256 * KiB, memoryLog: 2 * MiB },
};

const kib = (n: number): string => (n >= KiB ? `${n / KiB} KiB` : `${n} B`);

/** One thing Episteme was compared on, kept for the "where Episteme is behind" table. */
interface Comparison {
  workload: string;
  payload: string;
  peer: string;
  metric: string;
  episteme: number;
  other: number;
  /** Episteme ÷ peer as speed (>1: Episteme faster or better). */
  factor: number;
}

const comparisons: Comparison[] = [];

/** Why better-sqlite3 and classic-level sit out this run (smoke mode without bench/peers installed), or undefined. */
let peersSkipped: string | undefined;
const inThisRun = (store: string): boolean => peersSkipped === undefined || (store !== 'sqlite' && store !== 'level');
const skipNote = (): string[] => (peersSkipped === undefined ? [] : [`better-sqlite3 and classic-level are not in this run: ${peersSkipped}.`]);

// ---------------------------------------------------------------- appends

const WORKLOADS: Array<{ workload: Workload; title: string; clients: number; synced: boolean }> = [
  { workload: 'durable', title: 'durable append, one appender, one record per commit', clients: 1, synced: true },
  { workload: 'group', title: `durable append, ${GROUP_APPENDERS} concurrent appenders (group commit)`, clients: GROUP_APPENDERS, synced: true },
  { workload: 'unsynced', title: 'unsynced append, one appender, one record per commit', clients: 1, synced: false },
];

async function oneSlice(ctx: BenchContext, c: Contender, pool: PayloadPool, ms: number, clients: number): Promise<Slice> {
  // A fresh store per slice: no store grows across rounds, and no LevelDB compaction of an
  // earlier slice runs in the background of the next store's slice.
  const dir = ctx.tempDir(`episteme-bench-peers-${c.id}-`);
  const app = await c.open(dir);
  try {
    return await appendSlice(app, pool, ms, clients);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function appendWorkload(ctx: BenchContext, w: (typeof WORKLOADS)[number]): Promise<void> {
  const size = SIZES[ctx.mode];
  const ms = w.synced ? size.diskMs : size.cpuMs;
  const contenders = CONTENDERS[w.workload].filter((c) => inThisRun(c.store));
  const pools = new Map(PAYLOADS.map((n) => [n, new PayloadPool(n)]));
  const slices = new Map<string, Slice[]>();
  const key = (payload: number, id: string): string => `${payload}:${id}`;
  ctx.log(`${w.title}: warm-up, then ${size.rounds} rounds of ${ms} ms slices`);
  for (const c of contenders) for (const n of PAYLOADS) await oneSlice(ctx, c, pools.get(n)!, Math.min(ms, 50), w.clients);
  for (let r = 0; r < size.rounds; r++) {
    for (const n of PAYLOADS) {
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(r + k) % contenders.length]!;
        const s = await oneSlice(ctx, c, pools.get(n)!, ms, w.clients);
        const list = slices.get(key(n, c.id)) ?? [];
        list.push(s);
        slices.set(key(n, c.id), list);
      }
      await signalCheckpoint();
    }
  }

  const rate = (s: Slice): number => s.records / (s.ms / 1e3);
  /** Median over rounds of a's rate ÷ b's rate in the same round. */
  const perRound = (n: number, a: string, b: string): number | null => {
    const sa = slices.get(key(n, a))!;
    const sb = slices.get(key(n, b))!;
    const rs = sa.map((s, i) => ratio(rate(s), rate(sb[i]!))).filter((x): x is number => x !== null);
    return rs.length ? median(rs) : null;
  };
  const rows: Cell[][] = [];
  for (const n of PAYLOADS) {
    for (const c of contenders) {
      const ss = slices.get(key(n, c.id))!;
      const recs = median(ss.map(rate));
      const perCommit = ss.map((s) => s.perCommit).filter((x): x is number => x !== null);
      const vsEpisteme = c.store === 'episteme' ? null : perRound(n, 'episteme', c.id);
      rows.push([
        kib(n),
        c.label,
        recs,
        (recs * n) / 1e6,
        median(ss.map((s) => s.p50)),
        median(ss.map((s) => s.p99)),
        ...(w.workload === 'group' ? [perCommit.length ? median(perCommit) : null] : []),
        vsEpisteme,
        c.store === 'raw' ? null : perRound(n, c.id, 'raw'),
      ]);
      if (c.store === 'sqlite' || c.store === 'level') {
        const e = slices.get(key(n, 'episteme'))!;
        comparisons.push({ workload: w.title, payload: kib(n), peer: c.label, metric: 'records/s', episteme: median(e.map(rate)), other: recs, factor: vsEpisteme ?? NaN });
        const ep99 = median(e.map((s) => s.p99));
        const pp99 = median(ss.map((s) => s.p99));
        comparisons.push({ workload: w.title, payload: kib(n), peer: c.label, metric: 'p99 latency, µs', episteme: ep99, other: pp99, factor: pp99 / ep99 });
      }
    }
  }
  ctx.report({
    title: `peers: ${w.title}`,
    notes: [
      `${size.rounds} rounds of ${ms} ms slices per store and payload size, order rotated each round, a fresh store per slice; medians.`,
      'MB/s = payload bytes (10^6 B). Latency: call to acknowledgement of one append, µs.',
      'Episteme/this: median of per-round ratios of records/s (>1: Episteme faster; on the raw row it is Episteme/raw, the share of the limit it reaches).',
      'this/raw: the same for the row against the raw limit.',
      ...(w.workload === 'group'
        ? [
            `${GROUP_APPENDERS} appenders in a closed loop (each waits for its append before the next). Episteme: groupCommit: true;`,
            'SQLite and LevelDB: a queue that commits every write waiting for the previous commit as one transaction / one batch;',
            `raw: ${GROUP_APPENDERS} records per write + one fdatasync. rec/commit = records per sync, transaction or batch.`,
          ]
        : []),
      ...(w.workload === 'unsynced' ? ["SQLite NORMAL in WAL mode syncs only at checkpoints; OFF never. Episteme 'none' syncs on rotation and close."] : []),
      ...skipNote(),
    ],
    columns: ['payload', 'store', 'records/s', 'MB/s', 'p50 µs', 'p99 µs', ...(w.workload === 'group' ? ['rec/commit'] : []), 'Episteme/this', 'this/raw'],
    rows,
  });
}

// ---------------------------------------------------------------- reads and opens

interface DatasetFigures {
  payload: number;
  records: number;
  logBytes: number;
  fillMs: Record<'episteme' | 'sqlite' | 'level', number>;
  /** Wall and CPU ms (the process, every thread) of each timed read. */
  reads: Map<ReadMethod, Array<{ ms: number; cpuMs: number }>>;
  clean: Map<OpenMethod, number[]>;
  killed: Map<OpenMethod, number[]>;
  /** Records the killed writers had added, per store, summed over kills. */
  crashAppended: Record<'episteme' | 'sqlite' | 'level', number>;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k) ?? [];
  list.push(v);
  m.set(k, list);
}

async function datasetWorkloads(ctx: BenchContext, payload: number): Promise<Dataset> {
  const size = SIZES[ctx.mode];
  const pool = new PayloadPool(payload);
  const records = recordsFor(size.log, payload);
  const logBytes = records * (40 + payload);
  const dirs = { episteme: ctx.tempDir('episteme-bench-peers-ds-'), sqlite: ctx.tempDir('episteme-bench-peers-ds-'), level: ctx.tempDir('episteme-bench-peers-ds-') };
  const f: DatasetFigures = {
    payload,
    records,
    logBytes,
    fillMs: { episteme: 0, sqlite: 0, level: 0 },
    reads: new Map(),
    clean: new Map(),
    killed: new Map(),
    crashAppended: { episteme: 0, sqlite: 0, level: 0 },
  };
  const stores = (['episteme', 'sqlite', 'level'] as const).filter(inThisRun);
  for (const s of stores) {
    ctx.log(`${kib(payload)}: filling ${s} with ${records.toLocaleString('en-US')} records (${(logBytes / MiB).toFixed(0)} MiB of Episteme log)`);
    const t0 = performance.now();
    await fill(s, dirs[s], pool, records);
    f.fillMs[s] = performance.now() - t0;
    await signalCheckpoint();
  }
  const dirOf = (m: ReadMethod | OpenMethod): string => (m.startsWith('episteme') || m === 'raw' ? dirs.episteme : m === 'sqlite' ? dirs.sqlite : dirs.level);

  const reads = READS.filter((x) => inThisRun(x.method));
  // The same conditions for every row (bench/issues/24-read-path.md): an untimed read of each first (the
  // first row timed after the fills paid for their garbage: 35-60 ms against 18-20 ms in the next round);
  // LevelDB's rounds after the others' (the row after it paid for its garbage, and the rotation keeps one
  // cyclic order: that was always Episteme readFrom, after raw, which allocates nothing).
  const rotated = reads.filter((x) => x.method !== 'level');
  const last = reads.filter((x) => x.method === 'level');
  ctx.log(`${kib(payload)}: full reads, an untimed one of each reader, then ${size.readRounds} rounds (LevelDB's after the others')`);
  for (const group of [rotated, last]) {
    for (const { method } of group) {
      await readAll(method, dirOf(method));
      await signalCheckpoint();
    }
    for (let r = 0; r < size.readRounds; r++) {
      for (let k = 0; k < group.length; k++) {
        const { method } = group[(r + k) % group.length]!;
        const [c0, t0] = [process.cpuUsage(), performance.now()];
        const got = await readAll(method, dirOf(method));
        const [ms, cpu] = [performance.now() - t0, process.cpuUsage(c0)];
        const want = method === 'raw' ? undefined : records;
        if (want !== undefined && (got.records !== want || got.bytes !== want * payload)) {
          throw new Error(`${method} read ${got.records} records / ${got.bytes} B, expected ${want} / ${want * payload}`);
        }
        push(f.reads, method, { ms, cpuMs: (cpu.user + cpu.system) / 1000 });
        await signalCheckpoint();
      }
    }
  }

  const expectedNext: Record<OpenMethod, number> = { episteme: logBytes, 'episteme-headers': logBytes, 'episteme-default': logBytes, 'episteme-reader': logBytes, sqlite: records, level: records, raw: 0 };
  ctx.log(`${kib(payload)}: opens after a clean close, ${size.openRounds} rounds`);
  const opens = OPENS.filter((x) => inThisRun(x.method));
  for (let r = 0; r < size.openRounds; r++) {
    for (let k = 0; k < opens.length; k++) {
      const { method } = opens[(r + k) % opens.length]!;
      // the open before may have been scanSealedOnOpen: false, which withdraws
      // the clean-close mark and leaves none: let a default writer close first
      if (method === 'episteme-default' || method === 'episteme-reader') await (await Journal.open({ dir: join(dirOf(method), 'journal') })).close();
      const { ms, next } = await timedOpen(method, dirOf(method));
      if (method !== 'raw' && next !== expectedNext[method]) throw new Error(`${method} opened at ${next}, expected ${expectedNext[method]}`);
      push(f.clean, method, ms);
      await signalCheckpoint();
    }
  }

  return { figures: f, dirs, expectedNext };
}

interface Dataset {
  figures: DatasetFigures;
  dirs: Record<'episteme' | 'sqlite' | 'level', string>;
  /** Where each store must reopen at least: nothing it acknowledged before may be lost. */
  expectedNext: Record<OpenMethod, number>;
}

/**
 * SIGKILL of one writer child that appends to every store of every payload
 * size, then one open of each store (the one that recovers), in rotated order.
 */
async function killRounds(ctx: BenchContext, datasets: Dataset[]): Promise<void> {
  const size = SIZES[ctx.mode];
  const stores = (['episteme', 'sqlite', 'level'] as const).filter(inThisRun);
  for (let kill = 0; kill < size.kills; kill++) {
    ctx.log(`SIGKILL of a writer child (${kill + 1}/${size.kills})`);
    const args: CrashChildArgs = {
      stores: datasets.flatMap((d) => stores.map((s) => ({ store: s, dir: d.dirs[s], payloadBytes: d.figures.payload }))),
      maxBytesPerStore: size.crashBytes,
    };
    const child = startChild('crashChild', args);
    await child.waitForLine('appending', 120_000);
    await new Promise((r) => setTimeout(r, size.killAfterMs));
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    if (exit.signal !== 'SIGKILL') throw new Error(`crash child ended with code ${exit.code} before the kill: ${exit.stderr}`);
    const methods = (['episteme', 'sqlite', 'level', 'raw'] as const).filter(inThisRun);
    for (const d of datasets) {
      const f = d.figures;
      for (let k = 0; k < methods.length; k++) {
        const method = methods[(kill + k) % methods.length]!;
        const dir = method === 'raw' ? d.dirs.episteme : d.dirs[method as 'episteme' | 'sqlite' | 'level'];
        const { ms, next } = await timedOpen(method, dir);
        if (method !== 'raw') {
          // Nothing written before the child started may be lost; the child's own appends were unsynced.
          if (next < d.expectedNext[method]) throw new Error(`${method} reopened at ${next} after SIGKILL, below ${d.expectedNext[method]}`);
          const added = method === 'episteme' ? (next - d.expectedNext[method]) / (40 + f.payload) : next - d.expectedNext[method];
          f.crashAppended[method as 'episteme' | 'sqlite' | 'level'] += added;
          d.expectedNext[method] = next;
          if (method === 'episteme') d.expectedNext['episteme-headers'] = d.expectedNext['episteme-default'] = next;
        }
        push(f.killed, method, ms);
        await signalCheckpoint();
      }
    }
  }
}

function readTable(ctx: BenchContext, figures: DatasetFigures[]): Table {
  const rows: Cell[][] = [];
  for (const f of figures) {
    const msOf = (m: ReadMethod, cpu = false): number => median(f.reads.get(m)!.map((x) => (cpu ? x.cpuMs : x.ms)));
    const e = msOf('episteme-readFrom');
    for (const { method, label } of READS.filter((x) => inThisRun(x.method))) {
      const ms = msOf(method);
      const recs = f.records / (ms / 1e3);
      const vsSqlite = method.startsWith('episteme') && inThisRun('sqlite') ? [ratio(msOf('sqlite'), ms), ratio(msOf('sqlite', true), msOf(method, true))] : [null, null];
      rows.push([kib(f.payload), label, recs, (f.records * f.payload) / 1e6 / (ms / 1e3), ms, msOf(method, true), method === 'episteme-readFrom' ? null : ratio(ms, e), ...vsSqlite, method === 'raw' ? null : ratio(msOf('raw'), ms)]);
      if (method === 'sqlite' || method === 'level') {
        comparisons.push({ workload: 'full sequential read from the start', payload: kib(f.payload), peer: label, metric: 'records/s', episteme: f.records / (e / 1e3), other: recs, factor: ms / e });
      }
    }
  }
  const size = SIZES[ctx.mode];
  return {
    title: 'peers: full sequential read from the start',
    notes: [
      `${(size.log / MiB).toFixed(0)} MiB of Episteme log per payload size (the same records in every store), page cache warm; medians of ${size.readRounds} rounds after an untimed read of each, order rotated each round, LevelDB's rounds after the others' (its garbage was collected in the next row's time).`,
      'Every record is visited and its payload length summed; Episteme checks the CRC32C of every record it returns (verifyOnRead "crc", the default: FORMAT.md, what a read checks).',
      'MB/s = payload bytes. CPU ms: the process, every thread. Episteme/this = this time ÷ Episteme readFrom time (>1: readFrom faster);',
      'SQLite/this = SQLite iterate() time ÷ this time (>1: faster than SQLite), by wall and by CPU; this/raw = raw time ÷ this time.',
      ...skipNote(),
    ],
    columns: ['payload', 'reader', 'records/s', 'MB/s', 'ms', 'CPU ms', 'Episteme/this', 'SQLite/this', 'by CPU', 'this/raw'],
    rows,
  };
}

function openTable(ctx: BenchContext, figures: DatasetFigures[], which: 'clean' | 'killed'): Table {
  const size = SIZES[ctx.mode];
  const rows: Cell[][] = [];
  const methods = (which === 'clean' ? OPENS : OPENS.filter((o) => o.method !== 'episteme-headers' && o.method !== 'episteme-default' && o.method !== 'episteme-reader')).filter((o) => inThisRun(o.method));
  for (const f of figures) {
    const samples = which === 'clean' ? f.clean : f.killed;
    const e = median(samples.get('episteme')!);
    const raw = median(samples.get('raw')!);
    for (const { method, label } of methods) {
      const ms = median(samples.get(method)!);
      rows.push([
        kib(f.payload),
        label,
        ms,
        Math.max(...samples.get(method)!),
        f.logBytes / 1e6 / (ms / 1e3),
        f.records / (ms / 1e3),
        method === 'episteme' ? null : ratio(ms, e),
        method === 'raw' ? null : ratio(raw, ms),
      ]);
      if (method === 'sqlite' || method === 'level') {
        comparisons.push({
          workload: which === 'clean' ? 'open after a clean close' : 'open (recovery) after SIGKILL of the writer',
          payload: kib(f.payload),
          peer: label,
          metric: 'open ms',
          episteme: e,
          other: ms,
          factor: ms / e,
        });
        if (which === 'clean') {
          const h = median(samples.get('episteme-headers')!);
          comparisons.push({ workload: 'open after a clean close, scanSealedOnOpen: false', payload: kib(f.payload), peer: label, metric: 'open ms', episteme: h, other: ms, factor: ms / h });
          const d = median(samples.get('episteme-default')!);
          comparisons.push({ workload: 'open after a clean close, default options', payload: kib(f.payload), peer: label, metric: 'open ms', episteme: d, other: ms, factor: ms / d });
          const rd = median(samples.get('episteme-reader')!);
          comparisons.push({ workload: 'reader open after a clean close (openForRead)', payload: kib(f.payload), peer: label, metric: 'open ms', episteme: rd, other: ms, factor: ms / rd });
        }
      }
    }
  }
  const appended = figures.map((f) => `${kib(f.payload)}: Episteme +${f.crashAppended.episteme}, SQLite +${f.crashAppended.sqlite}, LevelDB +${f.crashAppended.level} records`).join('; ');
  return {
    title: which === 'clean' ? `peers: open time after a clean close, ${(size.log / MiB).toFixed(0)} MiB log` : `peers: open (recovery) time after SIGKILL of a writer, ${(size.log / MiB).toFixed(0)} MiB log`,
    notes: [
      'Open = until the store knows where the next record goes: Episteme Journal.open as a writer (lock, recovery),',
      'SQLite new Database + first query (WAL recovery runs there), LevelDB open (log replay) + reading the last key. Page cache warm.',
      'SQLite and LevelDB do not read their data on open. Episteme: scanSealedOnOpen true checks CRC32C and BLAKE3 of every record; false checks headers and',
      'scans the last segment; the default options trust sealed segments by the recovery point and, after a clean close, the last one by its size (its CRC32C is checked in the background, before the first write).',
      'A reader (openForRead) takes the last segment by the last record its clean-close mark names (that record read and checked; every read checks its records).',
      which === 'clean'
        ? `Medians of ${size.openRounds} rounds (max = slowest). log MB/s and records/s = the dataset's size over the open time.`
        : `A child opened all three stores, appended unsynced batches to each for ${size.killAfterMs} ms (at most ${size.crashBytes / MiB} MiB each), and was SIGKILLed; ${size.kills} kill(s), medians. Added by the killed writers and kept: ${appended}.`,
      'Episteme/this = this time ÷ Episteme time (>1: Episteme opens faster); this/raw = raw time ÷ this time (raw = reading every byte of the log once, the floor of a recovery that checks every record).',
      ...skipNote(),
    ],
    columns: ['payload', 'store', 'ms', 'max ms', 'log MB/s', 'records/s', 'Episteme/this', 'this/raw'],
    rows,
  };
}

// ---------------------------------------------------------------- summary

function behindTable(memory: Table): Table {
  const rows: Cell[][] = [];
  for (const c of comparisons) {
    if (!(c.factor < 1)) continue;
    const peerBetter = 1 / c.factor;
    const noise = c.factor > 0.9 ? ' (within 10%: noise level on this VM)' : '';
    rows.push([c.workload, c.payload, c.peer, c.metric, c.episteme, c.other, c.factor, `peer ${peerBetter.toFixed(peerBetter >= 10 ? 0 : 2)}x better${noise}`]);
  }
  for (const r of memory.rows) {
    if (r[10] === 'no') rows.push([String(r[0]), '-', 'goal', 'peak RSS MB', r[7] as number, RSS_GOAL_MB, RSS_GOAL_MB / (r[7] as number), 'over the 200 MB goal']);
  }
  const ahead = comparisons.filter((c) => c.factor >= 1).length;
  return {
    title: 'peers: where Episteme is behind a peer, and by how much',
    notes: [
      `Every comparison above in which the peer did better (${rows.length} of ${comparisons.length}; Episteme was equal or better in ${ahead}).`,
      'Episteme/peer as speed: records/s ratio, or the inverse for times and latencies (<1: the peer is better).',
      'One run on a shared VM: synced workloads can swing by 2x between runs when other work syncs to the same disk (see the load average); trust verdicts that repeat.',
      ...skipNote(),
    ],
    columns: ['workload', 'payload', 'peer', 'metric', 'Episteme', 'peer value', 'Episteme/peer', 'verdict'],
    rows,
  };
}

export async function run(ctx: BenchContext): Promise<void> {
  comparisons.length = 0;
  peersSkipped = installPeers(ctx.mode, ctx.log); // in smoke mode without bench/peers: every table notes it
  const machine = describeMachine();
  if (ctx.mode !== 'smoke') scheduleMarkdownReport();
  await bundleChildren();
  ctx.report({
    title: 'peers: machine',
    notes: ['Where the temp directories of every store live; the figures below hold for this machine only.'],
    columns: ['what', 'value'],
    rows: [
      ['CPU', `${machine.cpus} x ${machine.cpuModel}`],
      ['memory', `${machine.memoryGiB} GiB`],
      ['Node', machine.node],
      ['kernel', machine.kernel],
      ['temp dir', machine.tempDir],
      ['filesystem', `${machine.filesystem} on ${machine.device} (${machine.mountOptions})`],
    ],
  });

  for (const w of WORKLOADS) {
    await appendWorkload(ctx, w);
    await signalCheckpoint();
  }

  const datasets: Dataset[] = [];
  for (const n of PAYLOADS) {
    datasets.push(await datasetWorkloads(ctx, n));
    await signalCheckpoint();
  }
  await killRounds(ctx, datasets);
  for (const d of datasets) for (const dir of Object.values(d.dirs)) rmSync(dir, { recursive: true, force: true });
  const figures = datasets.map((d) => d.figures);
  ctx.report(readTable(ctx, figures));
  ctx.report(openTable(ctx, figures, 'clean'));
  ctx.report(openTable(ctx, figures, 'killed'));
  ctx.report({
    title: 'peers: bulk load of the read/open datasets (for context)',
    notes: ['Unsynced, about 4 MiB of payload per appendBatch / transaction / batch, one run each; closing time included.', ...skipNote()],
    columns: ['payload', 'records', 'Episteme rec/s', 'SQLite (OFF) rec/s', 'LevelDB rec/s', 'Episteme MB/s', 'SQLite MB/s', 'LevelDB MB/s'],
    rows: figures.map((f) => {
      const rs = (ms: number): number | null => (ms > 0 ? f.records / (ms / 1e3) : null); // 0: not filled in this run
      const mbs = (ms: number): number | null => (ms > 0 ? (f.records * f.payload) / 1e6 / (ms / 1e3) : null);
      return [kib(f.payload), f.records, rs(f.fillMs.episteme), rs(f.fillMs.sqlite), rs(f.fillMs.level), mbs(f.fillMs.episteme), mbs(f.fillMs.sqlite), mbs(f.fillMs.level)];
    }),
  });

  const memory = await memoryCheck(ctx, SIZES[ctx.mode].memoryLog);
  ctx.report(memory);
  ctx.report(behindTable(memory));
}
