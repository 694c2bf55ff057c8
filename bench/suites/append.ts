import { JournalAppends, PayloadPool, RawAppendPipelined, RawNoSync, RawSynced, type SliceResult, type Workload } from '../lib/appendWorkloads.js';
import { ratio } from '../lib/table.js';
import { metricsOn } from '../lib/telemetry.js';
import { signalCheckpoint } from '../lib/tempDirs.js';
import { median } from '../lib/timing.js';
import type { BenchContext, Cell, Mode, Table } from '../lib/types.js';

/**
 * Append throughput and latency (issue 3): durability `none`, `immediate`
 * with one appender, and `immediate` with group commit under 1-256
 * concurrent appenders, each next to the raw limit measured with plain
 * node:fs in the same temp dir in the same run (writeSync without sync,
 * write+fdatasync per record, N records per write + one fdatasync for the
 * batch sizes group commit achieved). All workloads of both payload sizes
 * run in short slices, interleaved round after round, so that each one sees
 * the disk's fast and slow phases alike; ratios are medians of per-round
 * ratios between neighbours in the rotation.
 */
export const name = 'append';

const MiB = 1024 * 1024;
const PAYLOADS = [256, 4096];
const GROUP_APPENDERS = [1, 16, 64, 256];
/** Appends issued before awaiting them all, for the pipelined `none` row. */
const IN_FLIGHT = 256;
/** The journal's default preallocateBytes, which the appending raw row mimics. */
const ZERO_AHEAD = 1 * MiB;
/** better-sqlite3 (WAL, synchronous=FULL), one row per transaction, on this VM (shared/notes/disk-and-peers.md). */
const SQLITE_FULL_PER_ROW: Record<number, number> = { 256: 6039, 4096: 3720 };

interface Sizes {
  rounds: number;
  /** Slice of a workload that syncs. */
  diskMs: number;
  /** Slice of a CPU-bound workload (no sync per record). */
  cpuMs: number;
  /** Slices of the first pass, which also measures the batch sizes group commit reaches. */
  warmMs: number;
  /** Size of the pre-written files the raw synced workloads overwrite in a ring. */
  preallocated: number;
}

const SIZES: Record<Mode, Sizes> = {
  full: { rounds: 15, diskMs: 400, cpuMs: 200, warmMs: 250, preallocated: 64 * MiB },
  quick: { rounds: 9, diskMs: 150, cpuMs: 80, warmMs: 120, preallocated: 32 * MiB },
  smoke: { rounds: 1, diskMs: 15, cpuMs: 10, warmMs: 8, preallocated: 2 * MiB },
};

interface Figures {
  w: Workload;
  /** Records per second of each main-round slice. */
  rates: number[];
  records: number;
  ms: number;
  /** Process CPU time (user + system, all threads) of the slices. */
  cpuMs: number;
  syncs: number;
  /** Time inside fdatasync (call to completion), summed over the slices. */
  syncMs: number;
  /** Time with at least one fdatasync running. */
  syncBusyMs: number;
}

/** Records per second over all main-round slices: the average over whatever disk phases the run went through. */
function aggregateRate(f: Figures): number {
  return f.ms > 0 ? f.records / (f.ms / 1000) : 0;
}

function kib(n: number): string {
  return n >= 1024 ? `${n / 1024} KiB` : `${n} B`;
}

/** Median over rounds of a/b, each round's a and b taken at most one rotation apart (usually neighbours). */
function pairedRatio(a: Figures | undefined, b: Figures | undefined): number | null {
  if (!a || !b) return null;
  const rs: number[] = [];
  for (let r = 0; r < Math.min(a.rates.length, b.rates.length); r++) if (b.rates[r]! > 0) rs.push(a.rates[r]! / b.rates[r]!);
  return rs.length ? median(rs) : null;
}

async function runSlice(w: Workload, ms: number): Promise<SliceResult & { cpuMs: number }> {
  const c0 = process.cpuUsage();
  const r = await w.slice(ms);
  const c = process.cpuUsage(c0);
  await w.settle();
  await signalCheckpoint();
  return { ...r, cpuMs: (c.user + c.system) / 1000 };
}

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];

  const all: Workload[] = [];
  const per: PerPayload[] = [];
  for (const n of PAYLOADS) {
    const dir = ctx.tempDir(`episteme-bench-append-${n}-`);
    const pool = new PayloadPool(n);
    const j = (key: string, label: string, options: ConstructorParameters<typeof JournalAppends>[4], drive: ConstructorParameters<typeof JournalAppends>[5]): JournalAppends =>
      new JournalAppends(`${key}-${n}`, label, `${dir}/${key}`, pool, options, drive);
    const p: PerPayload = {
      n,
      dir,
      pool,
      rawNoSync: new RawNoSync(dir, pool),
      rawSync1Grow: new RawSynced(dir, pool, 1, 0),
      rawSync1Pre: new RawSynced(dir, pool, 1, size.preallocated),
      rawSync1PreAsync: new RawSynced(dir, pool, 1, size.preallocated, true),
      none: j('none', 'journal none, 1 appender awaiting each append', { durability: 'none' }, { appenders: 1 }),
      noneInFlight: j('none-inflight', `journal none, ${IN_FLIGHT} appends in flight`, { durability: 'none' }, { inFlight: IN_FLIGHT }),
      single: j('immediate', 'journal immediate, 1 appender', { durability: 'immediate' }, { appenders: 1 }),
      group: new Map(
        GROUP_APPENDERS.map((c) => [c, j(`group-${c}`, `journal immediate + group commit, ${c} appender${c > 1 ? 's' : ''}`, { durability: 'immediate', groupCommit: true }, { appenders: c })]),
      ),
      noneOff: j('none-telemetry-off', 'journal none, 1 appender, telemetry: false', { durability: 'none', telemetry: false }, { appenders: 1 }),
      noneMetrics: j('none-metrics', 'journal none, 1 appender, metrics on (SDK MeterProvider)', { durability: 'none', telemetry: metricsOn() }, { appenders: 1 }),
      group64Metrics: j('group-64-metrics', 'journal immediate + group commit, 64 appenders, metrics on', { durability: 'immediate', groupCommit: true, telemetry: metricsOn() }, { appenders: 64 }),
      group64NoPrealloc: j('group-64-noprealloc', 'journal immediate + group commit, 64 appenders, preallocateBytes 0', { durability: 'immediate', groupCommit: true, preallocateBytes: 0 }, { appenders: 64 }),
      batches: new Map(),
      warmBatch: new Map(),
      appendPipe: undefined,
    };
    per.push(p);
    all.push(p.rawNoSync, p.rawSync1Grow, p.rawSync1Pre, p.rawSync1PreAsync, p.none, p.noneOff, p.noneMetrics, p.noneInFlight, p.single, ...p.group.values(), p.group64Metrics, p.group64NoPrealloc);
  }
  ctx.log(`opening ${all.length} workloads (pre-writing ${size.preallocated / MiB} MiB files for the raw synced ones)`);
  const opened: Workload[] = [];
  const open = async (w: Workload): Promise<void> => {
    await w.open();
    opened.push(w);
  };
  try {
    for (const w of all) await open(w);
    const figures = await measure(ctx, size, per, all, open);
    report(ctx, size, per, figures);
  } finally {
    // journals hold a writer lock and descriptors: close them even when a slice threw
    for (const w of opened) await w.close().catch(() => undefined);
  }
}

interface PerPayload {
  n: number;
  dir: string;
  pool: PayloadPool;
  rawNoSync: RawNoSync;
  rawSync1Grow: RawSynced;
  rawSync1Pre: RawSynced;
  rawSync1PreAsync: RawSynced;
  none: JournalAppends;
  noneInFlight: JournalAppends;
  single: JournalAppends;
  group: Map<number, JournalAppends>;
  /** Diagnostic: group commit at 64 appenders without the journal's zero-filled preallocation. */
  group64NoPrealloc: JournalAppends;
  /** Telemetry's cost: `none` with telemetry off, and with an SDK collecting metrics; group commit 64 with metrics (the plain rows load the API, with no SDK). */
  noneOff: JournalAppends;
  noneMetrics: JournalAppends;
  group64Metrics: JournalAppends;
  /** Raw batches by records per sync. */
  batches: Map<number, RawSynced>;
  /** Records per sync each group-commit level reached in the warm-up pass (the raw batch it is compared with). */
  warmBatch: Map<number, number>;
  /** Diagnostic: an appending raw pipeline at the batch size group commit reached with 64 appenders (set after the warm-up). */
  appendPipe: RawAppendPipelined | undefined;
}

/** Warm-up pass (which also sets the raw batch sizes), then the interleaved rounds. */
async function measure(ctx: BenchContext, size: Sizes, per: PerPayload[], all: Workload[], open: (w: Workload) => Promise<void>): Promise<Map<Workload, Figures>> {
  const sliceMs = (w: Workload): number => (w.cpuBound ? size.cpuMs : size.diskMs);

  // Warm-up pass: JIT, page cache, journals past their first preallocation; and the batch sizes group commit reaches.
  ctx.log(`warm-up pass, ${size.warmMs} ms slices`);
  for (const w of all) await runSlice(w, Math.min(size.warmMs, sliceMs(w)));
  for (const p of per) {
    for (const [c, w] of p.group) {
      const r = await runSlice(w, size.warmMs);
      p.warmBatch.set(c, r.syncs > 0 ? r.records / r.syncs : 1);
    }
    // raw batches: what group commit achieved (rounded), and 64 always
    const ns = new Set<number>([64]);
    for (const c of GROUP_APPENDERS) {
      const b = Math.round(p.warmBatch.get(c)!);
      if (b > 1) ns.add(Math.min(b, 256));
    }
    for (const b of [...ns].sort((x, y) => x - y)) p.batches.set(b, new RawSynced(p.dir, p.pool, b, size.preallocated));
    p.appendPipe = new RawAppendPipelined(p.dir, p.pool, Math.max(1, Math.min(Math.round(p.warmBatch.get(64)!), 256)), ZERO_AHEAD);
    for (const w of [...p.batches.values(), p.appendPipe]) {
      await open(w);
      await runSlice(w, size.warmMs);
    }
    ctx.log(`${kib(p.n)}: group commit reached ${[...p.warmBatch].map(([c, b]) => `${b.toFixed(1)} rec/sync at ${c}`).join(', ')}; raw batches of ${[...p.batches.keys()].join(', ')}`);
  }

  // Rotation order: each journal workload next to the raw workload it is compared with.
  const order: Workload[] = [];
  for (const p of per) {
    order.push(p.rawNoSync, p.noneOff, p.none, p.noneMetrics, p.noneInFlight, p.rawSync1Grow, p.rawSync1Pre, p.single, p.rawSync1PreAsync, p.group.get(1)!);
    const placed = new Set<RawSynced>();
    const place = (w: RawSynced): void => {
      if (placed.has(w)) return;
      order.push(w);
      placed.add(w);
    };
    for (const c of GROUP_APPENDERS.slice(1)) {
      const b = Math.round(p.warmBatch.get(c)!);
      if (b > 1) place(p.batches.get(Math.min(b, 256))!);
      if (c === 64) place(p.batches.get(64)!);
      order.push(p.group.get(c)!);
      if (c === 64) order.push(p.group64Metrics, p.group64NoPrealloc, p.appendPipe!);
    }
    for (const w of p.batches.values()) place(w);
  }

  const figures = new Map<Workload, Figures>(order.map((w) => [w, { w, rates: [], records: 0, ms: 0, cpuMs: 0, syncs: 0, syncMs: 0, syncBusyMs: 0 }]));
  // the latencies of the warm-up are not kept
  for (const w of order) w.latency?.reset();
  const roundSeconds = order.reduce((s, w) => s + sliceMs(w), 0) / 1000;
  ctx.log(`${size.rounds} interleaved rounds of ${order.length} slices (~${roundSeconds.toFixed(1)} s of slices per round)`);
  for (let r = 0; r < size.rounds; r++) {
    for (let k = 0; k < order.length; k++) {
      const w = order[(r + k) % order.length]!;
      const res = await runSlice(w, sliceMs(w));
      const f = figures.get(w)!;
      f.rates.push(res.records / (res.ms / 1000));
      f.records += res.records;
      f.ms += res.ms;
      f.cpuMs += res.cpuMs;
      f.syncs += res.syncs;
      f.syncMs += res.syncMs;
      f.syncBusyMs += res.syncBusyMs;
    }
  }
  return figures;
}

function report(ctx: BenchContext, size: Sizes, per: PerPayload[], figures: Map<Workload, Figures>): void {
  const goalRows: Cell[][] = [];
  for (const p of per) {
    const fig = (w: Workload): Figures => figures.get(w)!;
    const rb = p.pool.recordBytes;
    /** Ratio of the all-slices rates, and the median of the same-round ratios beside it. */
    const ratios = (a: Workload, b: Workload): [number | null, number | null] => [ratio(aggregateRate(fig(a)), aggregateRate(fig(b))), pairedRatio(fig(a), fig(b))];
    const row = (w: Workload, compared?: Workload, note?: string): Cell[] => {
      const f = fig(w);
      const rate = aggregateRate(f);
      const [p50, p99] = w.latency ? w.latency.percentiles([0.5, 0.99]) : [null, null];
      const [all, paired] = compared ? ratios(w, compared) : [null, null];
      return [
        w.label,
        rate,
        median(f.rates),
        (rate * rb) / 1e6,
        w.cpuBound && f.cpuMs > 0 ? f.records / (f.cpuMs / 1000) : null,
        p50 ?? null,
        p99 ?? null,
        f.syncs > 0 ? f.records / f.syncs : null,
        f.syncs > 0 ? (f.syncMs * 1000) / f.syncs : null,
        f.syncs > 0 ? ((f.ms - f.syncBusyMs) * 1000) / f.syncs : null,
        compared ? (note ?? compared.label.replace(/^raw /, '')) : '-',
        all,
        paired,
      ];
    };
    const group64 = p.group.get(64)!;
    const group64Metrics = p.group64Metrics;
    const batch64 = p.batches.get(64)!;
    const appendPipe = p.appendPipe!;
    const batchFor = (c: number): RawSynced => {
      const b = Math.round(p.warmBatch.get(c)!);
      return b > 1 ? p.batches.get(Math.min(b, 256))! : p.rawSync1Pre;
    };
    ctx.report({
      title: `append: ${kib(p.n)} payloads (${rb} B records), records/s and latency`,
      notes: [
        `${size.rounds} rounds; each round runs every workload of both payload sizes for ${size.diskMs} ms (syncing) or ${size.cpuMs} ms (no sync), in rotation.`,
        'rec/s = records / time over all main-round slices (averages the disk phases the run saw); median = median of the per-slice rates.',
        'MB/s = record bytes (40 B header + payload). by CPU = records per second of process CPU time (no-sync rows; the VM is shared).',
        'Latency: per append (journal) or per write+sync (raw), over all main-round slices. rec/sync: journal syncs counted through the FileIO seam (for `none`, the background writeback syncs every writebackBytes).',
        'Per sync: sync µs = mean time from the fdatasync call to its completion (journal: FileIO.fsyncAsync); rest µs = time with no sync running, per sync',
        '(encoding, write, promises, the appenders; group commit keeps two syncs running at once, so work that overlaps a sync is not in it).',
        'The journal sync time includes the libuv thread-pool hop, as the async-fdatasync raw row does.',
        'ratio = rec/s of the row / rec/s of the compared row; paired = median over rounds of the same-round ratio (neighbouring slices).',
        'raw preallocated = overwriting a pre-written file in a ring; the journal preallocates 1 MiB ahead by writing zeros (default preallocateBytes).',
        'raw appending = what a log of fresh space can reach with no CPU per record: a growing file zero-filled 1 MiB ahead, two syncs in flight (the journal\'s pipeline).',
      ],
      columns: ['workload', 'rec/s', 'median', 'MB/s', 'by CPU', 'p50 µs', 'p99 µs', 'rec/sync', 'sync µs', 'rest µs', 'compared with', 'ratio', 'paired'],
      rows: [
        row(p.rawNoSync),
        row(p.rawSync1Grow, p.rawSync1Pre),
        row(p.rawSync1Pre),
        row(p.rawSync1PreAsync, p.rawSync1Pre),
        ...[...p.batches.values()].map((w) => row(w, p.rawSync1Pre)),
        row(p.none, p.rawNoSync),
        row(p.noneInFlight, p.rawNoSync),
        row(p.single, p.rawSync1Pre),
        ...GROUP_APPENDERS.map((c) => row(p.group.get(c)!, batchFor(c), c === 1 ? undefined : `raw ${batchFor(c).perSync} per write+sync (reached in warm-up)`)),
        row(p.group64NoPrealloc, group64, 'group commit 64 with preallocation'),
        row(appendPipe, batchFor(64), `raw ${appendPipe.perSync} per write+sync, preallocated ring`),
      ],
    });

    const byCpu = (w: Workload): number | null => (fig(w).cpuMs > 0 ? fig(w).records / (fig(w).cpuMs / 1000) : null);
    const cpuRatio = (a: Workload, b: Workload): number | null => {
      const [x, y] = [byCpu(a), byCpu(b)];
      return x === null || y === null ? null : ratio(x, y);
    };
    ctx.report({
      title: `append: telemetry's cost, ${kib(p.n)} payloads`,
      notes: [
        '@opentelemetry/api is installed in every row. "no SDK": the default (telemetry on, nothing registered: the journal makes no instruments); "telemetry: false": never looked up; "metrics on": an SDK MeterProvider with a reader aggregates every measurement (as between two Prometheus scrapes).',
        'ratio and paired as above; by CPU = ratio of records per second of process CPU time (the steadier figure on this shared VM).',
      ],
      columns: ['workload', 'rec/s', 'compared with', 'ratio', 'paired', 'by CPU'],
      rows: [
        [p.none.label + ' (no SDK)', aggregateRate(fig(p.none)), p.noneOff.label, ...ratios(p.none, p.noneOff), cpuRatio(p.none, p.noneOff)],
        [p.noneMetrics.label, aggregateRate(fig(p.noneMetrics)), p.noneOff.label, ...ratios(p.noneMetrics, p.noneOff), cpuRatio(p.noneMetrics, p.noneOff)],
        [group64Metrics.label, aggregateRate(fig(group64Metrics)), group64.label + ' (no SDK)', ...ratios(group64Metrics, group64), cpuRatio(group64Metrics, group64)],
      ],
    });

    const single = aggregateRate(fig(p.single));
    const sqlite = SQLITE_FULL_PER_ROW[p.n]!;
    const goal = (what: string, [measured, paired]: [number | null, number | null], target: number, unit = 'x'): Cell[] => [
      kib(p.n),
      what,
      measured,
      paired,
      unit === 'x' ? `>= ${target}` : `>= ${target.toLocaleString('en-US')} ${unit}`,
      measured === null ? '-' : measured >= target ? 'yes' : 'no',
    ];
    goalRows.push(
      goal('none (1 appender) / raw writeSync no sync', ratios(p.none, p.rawNoSync), 0.5),
      goal(`none (${IN_FLIGHT} in flight) / raw writeSync no sync`, ratios(p.noneInFlight, p.rawNoSync), 0.5),
      goal('immediate single / raw write+fdatasync (preallocated)', ratios(p.single, p.rawSync1Pre), 0.9),
      goal('immediate single / raw write+fdatasync (growing file)', ratios(p.single, p.rawSync1Grow), 0.9),
      goal('immediate single, rec/s (sqlite FULL, 1 row/txn)', [single, median(fig(p.single).rates)], sqlite, 'rec/s'),
      goal('group commit 64 / immediate single', ratios(group64, p.single), 10),
      goal('group commit 64 / raw 64 per write+fdatasync', ratios(group64, batch64), 0.7),
      [kib(p.n), `group commit 64 / raw appending, ${appendPipe.perSync} per write, 2 syncs in flight (diagnostic)`, ...ratios(group64, appendPipe), '-', '-'],
    );
  }
  ctx.report({
    title: 'append: goals',
    notes: [
      'measured = ratio of the all-slices rates (rec/s for the sqlite line); paired = median of the same-round ratios (median rate for the sqlite line).',
      'sqlite figures are from shared/notes/disk-and-peers.md, measured another day: that line compares an absolute, the others are same-run ratios.',
      'The disk alternates fast (~4-5.5k fdatasync/s) and slow (300-900/s) phases: absolute rates depend on the mix a run saw.',
    ],
    columns: ['payload', 'goal', 'measured', 'paired', 'target', 'met'],
    rows: goalRows,
  });
}
