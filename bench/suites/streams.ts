import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openEventStore } from '@episteme/store';
import type { Journal } from '@episteme/wal';
import { scheduleMarkdownReport } from '../report.js';
import { runOpenChild } from '../lib/streams/child.js';
import { loadPeers, peerVersions, type PeersModule } from '../lib/streams/peersPackage.js';
import { commitPayloads, openPlainJournal, plainSlice } from '../lib/streams/plainJournal.js';
import { startPostgres, type Postgres } from '../lib/streams/postgres.js';
import { openEpisteme, openPostgres, openSQLite, SIDE_LABELS, type Side, type SideId } from '../lib/streams/sides.js';
import { appendTable, goalsTable, readTable, type AppendFigures, type ReadFigures, type RowKey } from '../lib/streams/tables.js';
import { appendSlice, datasetEvents, fillDataset, timedOps, type AppendSlice, type DatasetShape } from '../lib/streams/workloads.js';
import { natsServerCommand, TestCluster } from '@episteme/nats/testing';
import { commandRounds, commandTable, openClusterCommands, openEpistemeCommands, openPostgresCommands, openSQLiteCommands, type CommandSide } from '../lib/streams/commands.js';
import { signalCheckpoint } from '../lib/tempDirs.js';
import { median } from '../lib/timing.js';
import type { BenchContext, Mode } from '../lib/types.js';

/**
 * The event-store model side by side (issue 23, "Benchmark"): Episteme's
 * @episteme/store against what a TypeScript developer would pick for an
 * embedded or single-node event store, Emmett's SQLite and PostgreSQL event
 * stores, doing the same logical work in one run: appends with an expected
 * version (1 appender, 64 appenders on distinct streams, commits of 10
 * events), readStream and aggregateStream of a 100-event stream among many,
 * catch-up over every event from position 0; then Episteme's open time and
 * memory with 1,000,000 streams, and its appends against plain journal
 * appends of the same bytes.
 *
 * Every side is durable: Episteme `immediate`, SQLite as Emmett configures
 * it (WAL, SQLite's default synchronous level, read back and printed),
 * PostgreSQL with synchronous_commit on. The peers are installed into
 * bench/peers on first use (not in smoke mode) and PostgreSQL is started
 * and stopped by the suite; a side that cannot run is skipped with a
 * message, never failed.
 *
 * As in the peers suite, the VM's disk has fast and slow phases: the sides
 * run in short slices, interleaved round after round in rotated order, and a
 * ratio is the median of same-round ratios (neighbours in time).
 */
export const name = 'streams';

interface Sizes {
  rounds: number;
  /** Slice of an append workload, ms. */
  sliceMs: number;
  /** readStream / aggregateStream calls per side and round. */
  readOps: number;
  dataset: DatasetShape;
  /** Streams of the open / memory check (Episteme). */
  bigStreams: number;
}

const SIZES: Record<Mode, Sizes> = {
  full: { rounds: 7, sliceMs: 600, readOps: 300, dataset: { streams: 100_000, hot: 16, hotLength: 100 }, bigStreams: 1_000_000 },
  quick: { rounds: 3, sliceMs: 400, readOps: 100, dataset: { streams: 20_000, hot: 16, hotLength: 100 }, bigStreams: 1_000_000 },
  smoke: { rounds: 1, sliceMs: 40, readOps: 4, dataset: { streams: 300, hot: 4, hotLength: 20 }, bigStreams: 2_000 },
};

const GROUP = 64;
export const RSS_GOAL_MB = 400;

/** The append workloads: [key, appenders, events per commit]. */
const APPENDS: Array<{ key: RowKey; appenders: number; perCommit: number }> = [
  { key: 'append1', appenders: 1, perCommit: 1 },
  { key: 'append64', appenders: GROUP, perCommit: 1 },
  { key: 'append10', appenders: 1, perCommit: 10 },
];

interface Setup {
  sides: Side[];
  /** Why a side is missing, per side. */
  skipped: Map<SideId, string>;
  durability: Map<SideId, string>;
  postgres?: Postgres;
}

async function openSides(ctx: BenchContext, peers: PeersModule | string, pg: Postgres | string | undefined): Promise<Setup> {
  const skipped = new Map<SideId, string>();
  const durability = new Map<SideId, string>();
  const sides: Side[] = [await openEpisteme(ctx.tempDir('episteme-bench-streams-e-'))];
  durability.set('episteme', "durability 'immediate' (fdatasync before an append resolves), groupCommit: true");
  if (typeof peers === 'string') {
    skipped.set('sqlite', peers);
    skipped.set('postgres', peers);
    return { sides, skipped, durability };
  }
  const sqlite = await openSQLite(peers, ctx.tempDir('episteme-bench-streams-s-'));
  sides.push(sqlite);
  durability.set('sqlite', `file database, ${sqlite.synchronous} as Emmett leaves it (a new connection per operation, its pool's default); FULL syncs the WAL at every commit. Its appends are queued one at a time by the bench: concurrent ones fail with SQLITE_BUSY (no busy timeout on its connections)`);
  if (typeof pg === 'string' || pg === undefined) skipped.set('postgres', pg ?? 'not started');
  else {
    sides.push(openPostgres(peers, pg.connectionString));
    durability.set('postgres', `${pg.description} (every commit waits for its WAL flush); Emmett's default pool (node-postgres, 10 connections)`);
  }
  return { sides, skipped, durability, postgres: typeof pg === 'string' ? undefined : pg };
}

// ---------------------------------------------------------------- appends

/**
 * The k-th runner of round r: rotated each round, and backwards in odd
 * rounds, since a rotation alone keeps every runner behind the same
 * neighbour (whose left-over flushes would then always land on it).
 */
function turn(r: number, k: number, n: number): number {
  return r % 2 === 0 ? (r + k) % n : (((r - k) % n) + n) % n;
}

async function appendRounds(ctx: BenchContext, sides: Side[], plain: { journal: Journal; payloads: Uint8Array[] }): Promise<AppendFigures> {
  const size = SIZES[ctx.mode];
  const figures: AppendFigures = new Map();
  const push = (key: RowKey, id: string, s: AppendSlice): void => {
    const k = `${key}:${id}`;
    figures.set(k, [...(figures.get(k) ?? []), s]);
  };
  ctx.log(`appends: warm-up, then ${size.rounds} rounds of ${size.sliceMs} ms slices per store and workload`);
  for (const side of sides) for (const w of APPENDS) await appendSlice(side, Math.min(size.sliceMs, 50), w.appenders, w.perCommit);
  for (let r = 0; r < size.rounds; r++) {
    for (const w of APPENDS) {
      // the plain journal takes its turn among the sides in the workloads it is compared in
      const runners: Array<{ id: string; run: () => Promise<AppendSlice> }> = sides.map((side) => ({ id: side.id, run: () => appendSlice(side, size.sliceMs, w.appenders, w.perCommit) }));
      if (w.perCommit === 1) runners.push({ id: 'plain', run: () => plainSlice(plain.journal, plain.payloads, size.sliceMs, w.appenders) });
      for (let k = 0; k < runners.length; k++) {
        const x = runners[turn(r, k, runners.length)]!;
        push(w.key, x.id, await x.run());
        await signalCheckpoint();
      }
    }
    ctx.log(`appends: round ${r + 1}/${size.rounds} done`);
  }
  return figures;
}

// ---------------------------------------------------------------- reads

/** Fills a read store per side and opens it for the reads into `readers` (the caller closes them, also after a failure). */
async function fillSides(ctx: BenchContext, peers: PeersModule | string, pg: Postgres | undefined, sides: Side[], readers: Side[]): Promise<Map<SideId, number>> {
  const d = SIZES[ctx.mode].dataset;
  const events = datasetEvents(d);
  const fillRates = new Map<SideId, number>();
  for (const side of sides) {
    // a store of its own for the reads: the append rounds' streams stay out of it
    let filler: Side;
    let reopen: () => Promise<Side>;
    if (side.id === 'episteme') {
      const dir = ctx.tempDir('episteme-bench-streams-er-');
      filler = await openEpisteme(dir, true);
      reopen = () => openEpisteme(dir);
    } else if (side.id === 'sqlite') {
      const dir = ctx.tempDir('episteme-bench-streams-sr-');
      filler = await openSQLite(peers as PeersModule, dir, true);
      reopen = () => openSQLite(peers as PeersModule, dir);
    } else {
      // a database of its own, as the others have a file of their own
      filler = openPostgres(peers as PeersModule, pg!.readsConnectionString, true);
      reopen = async () => openPostgres(peers as PeersModule, pg!.readsConnectionString);
    }
    ctx.log(`reads: filling ${SIDE_LABELS[side.id]} with ${d.streams.toLocaleString('en-US')} streams (${events.toLocaleString('en-US')} events)`);
    const t0 = performance.now();
    try {
      await fillDataset(filler, d, side.id === 'sqlite' ? 1 : 64, (n) => ctx.log(`reads: ${SIDE_LABELS[side.id]}: ${n.toLocaleString('en-US')} commits`));
    } finally {
      await filler.close();
    }
    fillRates.set(side.id, events / ((performance.now() - t0) / 1e3));
    if (filler.retried > 0) ctx.log(`reads: ${SIDE_LABELS[side.id]}: ${filler.retried} fill append(s) failed with SQLITE_BUSY and were made again`);
    readers.push(await reopen());
    await signalCheckpoint();
  }
  return fillRates;
}

/** Events a side's catch-up returned twice (most in one round). */
const duplicates = new Map<SideId, number>();
const missed = new Map<SideId, number>();

async function readRounds(ctx: BenchContext, readers: Side[]): Promise<ReadFigures> {
  const size = SIZES[ctx.mode];
  const d = size.dataset;
  const figures: ReadFigures = new Map();
  const push = (key: RowKey, id: string, ms: number, ops: number, events: number): void => {
    const k = `${key}:${id}`;
    figures.set(k, [...(figures.get(k) ?? []), { ms, ops, events }]);
  };
  ctx.log(`reads: warm-up, then ${size.rounds} rounds`);
  for (const side of readers) {
    await timedOps(Math.min(size.readOps, 4), d.hot, (s) => side.readStream(s));
    await side.catchUp();
  }
  for (let r = 0; r < size.rounds; r++) {
    for (let k = 0; k < readers.length; k++) {
      const side = readers[turn(r, k, readers.length)]!;
      let n = 0;
      const rs = await timedOps(size.readOps, d.hot, async (s) => {
        const got = await side.readStream(s);
        if (got !== d.hotLength) throw new Error(`${side.label}: readStream(${s}) returned ${got} events, expected ${d.hotLength}`);
        n += got;
      });
      push('readStream', side.id, rs, size.readOps, n);
      const sum = await side.aggregate('order-hot0');
      const ag = await timedOps(size.readOps, d.hot, async (s) => {
        if ((await side.aggregate(s)) <= 0) throw new Error(`${side.label}: aggregateStream(${s}) folded nothing`);
      });
      if (sum <= 0) throw new Error(`${side.label}: aggregateStream folded nothing`);
      push('aggregate', side.id, ag, size.readOps, size.readOps * d.hotLength);
      const t0 = performance.now();
      const all = await side.catchUp();
      const ms = performance.now() - t0;
      // Emmett PostgreSQL pages by global position but orders each page by transaction id, so commits
      // made concurrently (the fill has 64 in flight) can come twice, or be stepped over: counted in
      // the notes, and only the events read are credited (a run is not lost to the peer's paging)
      const want = datasetEvents(d);
      if (all !== want && side.id !== 'postgres') throw new Error(`${side.label}: catch-up read ${all} events, expected ${want}`);
      if (all > want) duplicates.set(side.id, Math.max(duplicates.get(side.id) ?? 0, all - want));
      if (all < want) missed.set(side.id, Math.max(missed.get(side.id) ?? 0, want - all));
      push('catchUp', side.id, ms, 1, Math.min(all, want));
      await signalCheckpoint();
    }
    ctx.log(`reads: round ${r + 1}/${size.rounds} done`);
  }
  return figures;
}

// ---------------------------------------------------------------- open and memory

interface OpenFigures {
  streams: number;
  fillMs: number;
  openMs: number[];
  rssMb: number;
  baselineMb: number;
  hwmMb: number | null;
  recordsReplayed: number;
}

async function openCheck(ctx: BenchContext): Promise<OpenFigures> {
  const streams = SIZES[ctx.mode].bigStreams;
  const dir = ctx.tempDir('episteme-bench-streams-big-');
  ctx.log(`open: writing ${streams.toLocaleString('en-US')} one-event streams to an Episteme store (durability none)`);
  const t0 = performance.now();
  const store = await openEventStore({ dir, durability: 'none' });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < streams) {
      const i = next++;
      await store.appendToStream(`order-c${i}`, [{ type: 'OrderPlaced', data: { order: i, amount: 1 + (i % 97) } }], { expectedVersion: 0 });
      if (i > 0 && i % 200_000 === 0) ctx.log(`open: ${i.toLocaleString('en-US')} streams`);
    }
  };
  await Promise.all(Array.from({ length: 256 }, () => worker()));
  await store.close();
  const fillMs = performance.now() - t0;
  await signalCheckpoint();
  const runs = [];
  for (let k = 0; k < (ctx.mode === 'smoke' ? 1 : 3); k++) {
    ctx.log(`open: child process ${k + 1}`);
    runs.push(await runOpenChild({ dir, streams }));
  }
  rmSync(dir, { recursive: true, force: true });
  const mb = (b: number): number => b / 1e6;
  return {
    streams,
    fillMs,
    openMs: runs.map((r) => r.openMs),
    rssMb: median(runs.map((r) => mb(r.rssAfterOpen))),
    baselineMb: median(runs.map((r) => mb(r.baselineRss))),
    hwmMb: runs[0]!.vmHwm === null ? null : median(runs.map((r) => mb(r.vmHwm!))),
    recordsReplayed: Math.max(...runs.map((r) => r.recordsReplayed)),
  };
}

// ---------------------------------------------------------------- commands (issue 27)

/** Shopping-cart commands through Emmett's CommandHandler on each store: the same rounds and rotation as the appends. */
async function commandSection(ctx: BenchContext, peers: PeersModule | string, pg: Postgres | string | undefined, skipped: Map<SideId, string>): Promise<void> {
  const size = SIZES[ctx.mode];
  const sides: CommandSide[] = [];
  // the adapter on a 3-node cluster on loopback, where nats-server is installed (the servers share the machine's cores)
  const cluster = natsServerCommand() === undefined ? undefined : await TestCluster.start({ readyTimeoutMs: 60_000 });
  try {
    sides.push(await openEpistemeCommands(ctx.tempDir('episteme-bench-streams-ec-')));
    if (typeof peers !== 'string') {
      sides.push(openSQLiteCommands(peers, ctx.tempDir('episteme-bench-streams-sc-')));
      if (typeof pg === 'object') sides.push(openPostgresCommands(peers, pg.connectionString));
    }
    if (cluster) sides.push(await openClusterCommands(cluster.servers));
    const figures = await commandRounds(ctx.log, sides, size.rounds, size.sliceMs, turn, signalCheckpoint);
    const notes = [
      'Episteme: durability immediate, groupCommit: true. Emmett SQLite: its defaults (a connection per operation); commands queued one at a time (concurrent ones fail with SQLITE_BUSY). Emmett PostgreSQL: its default pool (10 connections), synchronous_commit on.',
      cluster
        ? 'On NATS: the same adapter with { nats }, an R3 stream on 3 nats-server 2.9.10 processes on loopback sharing the cores with the client; an append is acknowledged by a quorum in memory (not fsynced, docs/nats.md); Episteme/this is then embedded ÷ cluster.'
        : 'On NATS: skipped (nats-server is not installed; Debian: apt-get install -y nats-server).',
      ...[...skipped].map(([id, why]) => `${SIDE_LABELS[id]} skipped: ${why}.`),
      ...sides.filter((x) => x.retried > 0).map((x) => `${x.label}: ${x.retried} command(s) failed with SQLITE_BUSY and were made again, their time included.`),
    ];
    ctx.report(commandTable(size.rounds, size.sliceMs, sides.map((x) => x.id), figures, notes));
  } finally {
    for (const x of sides) await x.close().catch(() => undefined);
    await cluster?.stop();
  }
}

// ---------------------------------------------------------------- the run

export async function run(ctx: BenchContext): Promise<void> {
  duplicates.clear();
  missed.clear();
  if (ctx.mode !== 'smoke') scheduleMarkdownReport();
  const size = SIZES[ctx.mode];
  const peers = await loadPeers(ctx.mode, ctx.log);
  if (typeof peers === 'string') ctx.log(peers);
  const pg = typeof peers === 'string' ? undefined : startPostgres(ctx.log);
  if (typeof pg === 'string') ctx.log(pg);
  let setup: Setup | undefined;
  const readers: Side[] = [];
  try {
    setup = await openSides(ctx, peers, pg);
    await commandSection(ctx, peers, pg, setup.skipped);
    // EPISTEME_BENCH_STREAMS=commands: only the commands table (the rest fills read datasets and a 1,000,000-stream store)
    if (process.env.EPISTEME_BENCH_STREAMS === 'commands') return;
    const plainDir = ctx.tempDir('episteme-bench-streams-plain-');
    const payloads = await commitPayloads(join(plainDir, 'sample'), 256);
    const journal = await openPlainJournal(join(plainDir, 'journal'));
    let appends: AppendFigures;
    try {
      appends = await appendRounds(ctx, setup.sides, { journal, payloads });
    } finally {
      await journal.close();
    }
    const payloadBytes = median(payloads.map((p) => p.length));
    const fillRates = await fillSides(ctx, peers, setup.postgres, setup.sides, readers);
    const reads = await readRounds(ctx, readers);
    while (readers.length) await readers.pop()!.close();
    const open = await openCheck(ctx);

    const ids = setup.sides.map((s) => s.id);
    const notes = [
      ...ids.map((id) => `${SIDE_LABELS[id]}: ${setup!.durability.get(id)}.`),
      ...[...setup.skipped].map(([id, why]) => `${SIDE_LABELS[id]} skipped: ${why}.`),
      ...(typeof peers === 'string' ? [] : [`Peers: ${peerVersions()} (bench/peers).`]),
    ];
    const retried = setup.sides.filter((x) => x.retried > 0).map((x) => `${x.label}: ${x.retried} append(s) failed with SQLITE_BUSY "cannot commit transaction - SQL statements in progress" (rolled back by Emmett) and were made again, their time included.`);
    ctx.report(appendTable(size.rounds, size.sliceMs, ids, appends, payloadBytes, [...notes, ...retried]));
    const dup = [
      ...[...duplicates].map(([id, n]) => `${SIDE_LABELS[id]}'s catch-up returned up to ${n} event(s) twice (pages by global position, ordered by transaction id, after concurrent commits); events/s counts each event once.`),
      ...[...missed].map(([id, n]) => `${SIDE_LABELS[id]}'s catch-up stepped over up to ${n} event(s) (the same paging); events/s counts only the events it read.`),
    ];
    ctx.report(readTable(size.rounds, size.readOps, size.dataset, ids, reads, fillRates, [...notes, ...dup]));
    const estimate = [...fillRates]
      .filter(([id]) => id !== 'episteme')
      .map(([id, rate]) => `${SIDE_LABELS[id]} ~${Math.round(open.streams / rate / 60)} min`)
      .join(', ');
    ctx.report({
      title: `streams: open time and memory with ${open.streams.toLocaleString('en-US')} streams (Episteme only)`,
      notes: [
        `${open.streams.toLocaleString('en-US')} one-event streams written through appendToStream (durability none, 256 in flight), closed (the index checkpoint is written), then opened in a child process (plain node on a bundle, --expose-gc), ${open.openMs.length} time(s).`,
        'open = openEventStore (journal recovery after a clean close, stream index loaded from its checkpoint); RSS after open = process RSS after a GC; peak = VmHWM over the whole open.',
        estimate
          ? `The peers are not filled with ${open.streams.toLocaleString('en-US')} streams: at the rates their read datasets were written in this run (unsynced) that would take ${estimate}.`
          : 'The peers were skipped in this run (and are not filled with this many streams in any run: too slow, see the README).',
      ],
      columns: ['streams', 'fill s', 'open ms (median)', 'open ms (max)', 'records replayed', 'baseline RSS MB', 'RSS after open MB', 'peak MB', 'goal MB', 'met'],
      rows: [[open.streams, open.fillMs / 1e3, median(open.openMs), Math.max(...open.openMs), open.recordsReplayed, open.baselineMb, open.rssMb, open.hwmMb, RSS_GOAL_MB, (open.hwmMb ?? open.rssMb) < RSS_GOAL_MB ? 'yes' : 'no']],
    });
    ctx.report(goalsTable(appends, reads, setup.skipped, open.hwmMb ?? open.rssMb, RSS_GOAL_MB, open.streams));
  } finally {
    for (const r of readers) await r.close().catch(() => undefined);
    for (const s of setup?.sides ?? []) await s.close().catch(() => undefined);
    if (typeof pg === 'object') pg.stop();
  }
}
