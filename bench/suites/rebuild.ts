import { InMemorySnapshotStore, ProjectionEngine } from '@episteme/projections';
import { Journal } from '@episteme/wal';
import { countWithReadMany } from '../lib/journal.js';
import { binary, buildEvents, countByType, countByTypeBinary, sameCounts, writeEvents, type Counts } from '../lib/rebuildEvents.js';
import { interleavedRoundsAsync, median } from '../lib/timing.js';
import type { BenchContext, Cell, Mode } from '../lib/types.js';

/**
 * Projection rebuild rate (issue 5): ProjectionEngine.rebuild from offset 0
 * of a projection counting events per `type`, over JSON events of about
 * 200 B, next to the raw readFrom/readMany rates of the same journal and a
 * plain TextDecoder + JSON.parse loop over the same payloads held in memory,
 * interleaved in one run with a warm page cache.
 */
export const name = 'rebuild';

const GOAL_RATE = 500_000;
/** A rebuild against a bare decode loop over the same payloads in memory (issue 24). */
const GOAL_RATIO = 0.9;
/** ProjectionEngine's default batch size. */
const ENGINE_BATCH = 4096;

const SIZES: Record<Mode, { events: number; rounds: number }> = {
  full: { events: 1_000_000, rounds: 5 },
  quick: { events: 200_000, rounds: 3 },
  smoke: { events: 5_000, rounds: 1 },
};

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const dir = ctx.tempDir('episteme-bench-rebuild-');

  // The payloads, concatenated in memory (one buffer, offsets), and written to the journal.
  const decoder = new TextDecoder();
  const { json: { all, offsets }, binary: { all: allBin, offsets: binOffsets }, expected } = buildEvents(size.events);
  const bytes = all.length;
  const binBytes = allBin.length;
  const avg = bytes / size.events;
  const binDir = ctx.tempDir('episteme-bench-rebuild-binary-');
  ctx.log(`writing ${size.events.toLocaleString('en-US')} events as JSON (avg ${avg.toFixed(0)} B) to ${dir}, binary (avg ${(binBytes / size.events).toFixed(0)} B) to ${binDir}`);
  await writeEvents(dir, all, offsets);
  await writeEvents(binDir, allBin, binOffsets);

  const journal = await Journal.open({ dir });
  const binJournal = await Journal.open({ dir: binDir });
  const logger = { warn: (m: string) => ctx.log(`engine: ${m}`), info: () => undefined };
  const engine = new ProjectionEngine({ log: journal, store: new InMemorySnapshotStore(), logger });
  engine.register(countByType);
  const binEngine = new ProjectionEngine({ log: binJournal, store: new InMemorySnapshotStore(), logger });
  binEngine.register(countByTypeBinary);

  const check = (what: string, counts: Counts): void => {
    if (!sameCounts(counts, expected)) throw new Error(`${what}: counts per type differ from the events written: ${JSON.stringify(counts)}`);
  };
  let sink = 0;
  const cases = {
    readFrom: async () => {
      let n = 0;
      for await (const r of journal.readFrom(0)) {
        sink ^= r.payload.length;
        n++;
      }
      if (n !== size.events) throw new Error(`readFrom read ${n} of ${size.events} records`);
    },
    readMany: () => {
      const n = countWithReadMany(journal, ENGINE_BATCH);
      if (n !== size.events) throw new Error(`readMany read ${n} of ${size.events} records`);
    },
    // the same decode and count as the projection, on payloads already in memory: the floor of any rebuild
    jsonOnly: () => {
      const counts: Counts = {};
      for (let i = 0; i < size.events; i++) {
        const e = JSON.parse(decoder.decode(all.subarray(offsets[i], offsets[i + 1]))) as { type: string };
        counts[e.type] = (counts[e.type] ?? 0) + 1;
      }
      check('JSON.parse loop', counts);
    },
    // the binary codec's decode and the same count, on the binary payloads in memory
    binaryOnly: () => {
      const counts: Counts = {};
      for (let i = 0; i < size.events; i++) {
        const e = binary.decode(allBin.subarray(binOffsets[i], binOffsets[i + 1]));
        counts[e.type] = (counts[e.type] ?? 0) + 1;
      }
      check('binary decode loop', counts);
    },
    rebuildBinary: async () => {
      const report = await binEngine.rebuild(countByTypeBinary.name);
      if (report.events !== size.events) throw new Error(`rebuild applied ${report.events} of ${size.events} events`);
      check('rebuild (binary)', binEngine.query<Counts>(countByTypeBinary.name).state);
    },
    // readMany + the same decode and count, written by hand: what the engine adds on top shows against this
    readManyParse: () => {
      const counts: Counts = {};
      for (let pos = 0; ; ) {
        const batch = journal.readMany(pos, ENGINE_BATCH);
        if (batch.length === 0) break;
        for (const r of batch) {
          const e = JSON.parse(decoder.decode(r.payload)) as { type: string };
          counts[e.type] = (counts[e.type] ?? 0) + 1;
        }
        pos = batch[batch.length - 1]!.next;
      }
      check('readMany + JSON.parse loop', counts);
    },
    rebuild: async () => {
      const report = await engine.rebuild(countByType.name);
      if (report.events !== size.events) throw new Error(`rebuild applied ${report.events} of ${size.events} events`);
      check('rebuild', engine.query<Counts>(countByType.name).state);
    },
    // as the CLI runs it: a progress listener, so the records are counted first (for `total`)
    rebuildProgress: async () => {
      let reports = 0;
      const report = await engine.rebuild(countByType.name, { onProgress: () => reports++ });
      if (report.events !== size.events || reports < 2) throw new Error(`rebuild applied ${report.events} of ${size.events} events, ${reports} progress reports`);
      check('rebuild with progress', engine.query<Counts>(countByType.name).state);
    },
  };
  ctx.log(`warm-up, then ${size.rounds} interleaved rounds`);
  let timings: Awaited<ReturnType<typeof interleavedRoundsAsync<keyof typeof cases>>>;
  try {
    await interleavedRoundsAsync(1, cases);
    timings = await interleavedRoundsAsync(size.rounds, cases);
  } finally {
    await journal.close();
    await binJournal.close();
  }
  const { wall, cpu, mainCpu, mainQueued } = timings;

  const rate = (ms: number[]): number => size.events / (median(ms) / 1000);
  const paired = (a: number[], b: number[]): number => median(a.map((ms, i) => b[i]! / ms));
  const perEvent = (ms: number[]): number => (median(ms) * 1e6) / size.events;
  // what the main thread did with the wall time: ran, waited for a CPU (other
  // load), or neither (blocked: on the checksum worker, on I/O); schedstat and
  // the wall clock are read a moment apart, so a tiny negative rest is noise
  const blocked = (key: keyof typeof cases): number[] => wall[key].map((w, i) => Math.max(0, w - mainCpu[key][i]! - mainQueued[key][i]!));
  const row = (label: string, key: keyof typeof cases): Cell[] => [
    label,
    rate(wall[key]),
    rate(cpu[key]),
    perEvent(wall[key]),
    perEvent(mainCpu[key]),
    perEvent(mainQueued[key]),
    perEvent(blocked(key)),
    paired(wall[key], wall.jsonOnly),
    paired(wall[key], wall.binaryOnly),
    paired(wall[key], wall.readFrom),
  ];
  ctx.report({
    title: `rebuild: ${size.events.toLocaleString('en-US')} events (JSON ~${avg.toFixed(0)} B, binary ~${(binBytes / size.events).toFixed(0)} B), counting per type, events/s`,
    notes: [
      `Goals: rebuild >= ${GOAL_RATE.toLocaleString('en-US')} events/s (with the binary codec: JSON.parse alone does not reach it here), and >= ${GOAL_RATIO * 100}% of a bare decode loop of its codec over the same payloads in memory.`,
      'binary = binaryCodec with a schema of the events (the same events, a second journal).',
      `Medians of ${size.rounds} interleaved rounds, warm page cache; by CPU = events / median process CPU time. Ratios: medians of same-round ratios.`,
      `JSON.parse only = TextDecoder.decode + JSON.parse + count, over the payloads held in one buffer in memory (no journal).`,
      `rebuild = ProjectionEngine.rebuild (readMany of ${ENGINE_BATCH}, jsonCodec, apply, in-memory snapshot at the end); with a progress listener it first counts the records (progress reports carry the total).`,
      'main ns/event: the main thread on a CPU; queued: waiting for a CPU (other load); blocked: neither (waiting for the checksum worker or I/O). From /proc schedstat (Linux).',
    ],
    columns: ['path', 'events/s', 'by CPU', 'ns/event', 'main ns/event', 'queued', 'blocked', '/ JSON.parse only', '/ binary only', '/ readFrom'],
    rows: [
      row('journal.readFrom, no decode', 'readFrom'),
      row(`journal.readMany(pos, ${ENGINE_BATCH}), no decode`, 'readMany'),
      row('JSON.parse only (in memory)', 'jsonOnly'),
      row('readMany + JSON.parse + count (hand loop)', 'readManyParse'),
      row('ProjectionEngine.rebuild', 'rebuild'),
      row('ProjectionEngine.rebuild, progress listener', 'rebuildProgress'),
      row('binary decode only (in memory)', 'binaryOnly'),
      row('ProjectionEngine.rebuild, binaryCodec', 'rebuildBinary'),
    ],
  });
  const rebuildRate = rate(wall.rebuild);
  const binaryRate = rate(wall.rebuildBinary);
  const vsJson = paired(wall.rebuild, wall.jsonOnly);
  const vsJsonCpu = paired(cpu.rebuild, cpu.jsonOnly);
  const vsBinary = paired(wall.rebuildBinary, wall.binaryOnly);
  const vsBinaryCpu = paired(cpu.rebuildBinary, cpu.binaryOnly);
  const met = (ok: boolean): string => (ok ? 'yes' : 'no');
  ctx.report({
    title: 'rebuild: goals',
    columns: ['goal', 'measured', 'target', 'met'],
    rows: [
      ['rebuild events/s, JSON', rebuildRate, `>= ${GOAL_RATE.toLocaleString('en-US')}`, met(rebuildRate >= GOAL_RATE)],
      ['rebuild events/s, binaryCodec', binaryRate, `>= ${GOAL_RATE.toLocaleString('en-US')}`, met(binaryRate >= GOAL_RATE)],
      ['rebuild / JSON.parse only (wall)', vsJson, `>= ${GOAL_RATIO}`, met(vsJson >= GOAL_RATIO)],
      ['rebuild / JSON.parse only (CPU)', vsJsonCpu, `>= ${GOAL_RATIO}`, met(vsJsonCpu >= GOAL_RATIO)],
      ['rebuild binary / binary decode only (wall)', vsBinary, `>= ${GOAL_RATIO}`, met(vsBinary >= GOAL_RATIO)],
      ['rebuild binary / binary decode only (CPU)', vsBinaryCpu, `>= ${GOAL_RATIO}`, met(vsBinaryCpu >= GOAL_RATIO)],
    ],
  });
  if (sink === 0.5) ctx.log('unreachable');
}
