import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InMemorySnapshotStore, ProjectionEngine } from '@episteme/projections';
import { Journal } from '@episteme/wal';
import { countWithReadMany } from './journal.js';
import { countByType, type Counts } from './rebuildEvents.js';
import { interleavedRoundsAsync, median } from './timing.js';
import type { BenchContext, Mode } from './types.js';

/**
 * Issue 28's "rebuild events/s from the archive against the live log": the
 * same events in two journals, one with every segment live, one whose
 * cleanup moved every sealed segment to its archive (`archiveDir`) and
 * that was then closed and opened again, so that it reads them from the
 * archive's files as a restarted app does. A projection rebuilt from offset
 * 0 over each, interleaved round after round, with bare `readMany` loops
 * over each beside them. The archive is on the journal's file system (the
 * only disk here).
 */
const SIZES: Record<Mode, { events: number; segmentBytes: number; rounds: number }> = {
  full: { events: 1_000_000, segmentBytes: 16 * 1024 * 1024, rounds: 7 },
  quick: { events: 200_000, segmentBytes: 4 * 1024 * 1024, rounds: 5 },
  smoke: { events: 5_000, segmentBytes: 256 * 1024, rounds: 1 },
};
const TYPES = ['ItemAdded', 'ItemRemoved', 'OrderPlaced', 'OrderShipped', 'PaymentReceived', 'AddressChanged', 'CouponApplied'];
/** The engine's read batch. */
const BATCH = 4096;
/** Records per appendBatch while filling (a batch goes into one segment: small ones keep the segments near their size). */
const WRITE_BATCH = 512;

/** Event i as JSON, about 170 B. */
function eventJson(i: number): string {
  return JSON.stringify({
    type: TYPES[(Math.imul(i, 2654435761) >>> 0) % TYPES.length],
    id: `evt-${String(i).padStart(9, '0')}`,
    stream: `order-${(i * 7919) % 100_000}`,
    at: new Date(Date.UTC(2026, 11, 7) + i * 997).toISOString(),
    data: { sku: `SKU-${String((i * 31) % 100_000).padStart(5, '0')}`, qty: 1 + (i % 5), price: ((i * 37) % 100_000) / 100, customer: `cust-${(i * 13) % 50_000}` },
  });
}

export async function runArchiveRebuild(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const liveDir = join(ctx.tempDir('episteme-bench-archive-live-'), 'journal');
  const root = ctx.tempDir('episteme-bench-archive-');
  const archivedDir = join(root, 'journal');
  const archiveDir = join(root, 'archive');
  const encoder = new TextEncoder();
  const expected: Counts = {};
  const writers = [await Journal.open({ dir: liveDir, durability: 'none', maxSegmentBytes: size.segmentBytes }), await Journal.open({ dir: archivedDir, archiveDir, durability: 'none', maxSegmentBytes: size.segmentBytes })];
  for (let i = 0; i < size.events; i += WRITE_BATCH) {
    const batch: Uint8Array[] = [];
    for (let k = i; k < Math.min(size.events, i + WRITE_BATCH); k++) {
      const json = eventJson(k);
      batch.push(encoder.encode(json));
      const type = (JSON.parse(json) as { type: string }).type;
      expected[type] = (expected[type] ?? 0) + 1;
    }
    for (const w of writers) await w.appendBatch(batch);
  }
  const avg = (writers[0]!.head / size.events - 40).toFixed(0); // 40-byte record header
  const moved = writers[1]!.deleteBelow(writers[1]!.head);
  const segments = writers[0]!.segmentList().length;
  for (const w of writers) await w.close();

  const live = await Journal.open({ dir: liveDir });
  const archived = await Journal.open({ dir: archivedDir, archiveDir });
  const inArchive = readdirSync(archiveDir).filter((n) => n.endsWith('.wal')).length;
  if (archived.earliest !== 0 || inArchive !== moved.length) throw new Error(`the archive holds ${inArchive} segments (moved ${moved.length}), earliest ${archived.earliest}`);
  ctx.log(`archive: ${size.events.toLocaleString('en-US')} events in ${segments} segments of ${size.segmentBytes / 1024} KiB; ${inArchive} of them in the archive`);
  const logger = { warn: (m: string) => ctx.log(`engine: ${m}`), info: () => undefined };
  const engines = [live, archived].map((log) => {
    const engine = new ProjectionEngine({ log, store: new InMemorySnapshotStore(), logger });
    engine.register(countByType);
    return engine;
  });
  const rebuild = (engine: ProjectionEngine) => async (): Promise<void> => {
    const report = await engine.rebuild(countByType.name);
    const counts = engine.query<Counts>(countByType.name).state;
    if (report.events !== size.events || TYPES.some((t) => counts[t] !== expected[t])) throw new Error(`rebuild applied ${report.events} of ${size.events} events: ${JSON.stringify(counts)}`);
  };
  const readAll = (journal: Journal) => (): void => {
    const n = countWithReadMany(journal, BATCH);
    if (n !== size.events) throw new Error(`readMany read ${n} of ${size.events} records`);
  };
  const cases = { readLive: readAll(live), readArchive: readAll(archived), rebuildLive: rebuild(engines[0]!), rebuildArchive: rebuild(engines[1]!) };
  let timings: Awaited<ReturnType<typeof interleavedRoundsAsync<keyof typeof cases>>>;
  try {
    await interleavedRoundsAsync(1, cases);
    timings = await interleavedRoundsAsync(size.rounds, cases);
  } finally {
    await live.close();
    await archived.close();
  }
  const { wall, cpu } = timings;
  const rate = (ms: number[]): number => size.events / (median(ms) / 1000);
  // > 1: the archive is faster; medians of same-round ratios
  const paired = (a: number[], b: number[]): number => median(a.map((ms, i) => b[i]! / ms));
  ctx.report({
    title: `archive: a projection rebuilt from offset 0 with ${inArchive} of ${segments} segments in the archive, against the same log all live (${size.events.toLocaleString('en-US')} events, JSON of ~${avg} B), events/s`,
    notes: [
      'archive = a journal whose cleanup moved every sealed segment to archiveDir (same file system), then closed and opened again: it reads them from the archive\'s files.',
      `rebuild = ProjectionEngine.rebuild counting events per type (readMany of ${BATCH}, JSON). Medians of ${size.rounds} interleaved rounds, warm page cache; by CPU = events / median process CPU time.`,
      'archive / live = the live row\'s time / the archive row\'s time, median of same-round ratios (< 1: slower through the archive).',
    ],
    columns: ['path', 'live events/s', 'archive events/s', 'live by CPU', 'archive by CPU', 'archive / live', 'by CPU'],
    rows: [
      [`journal.readMany(pos, ${BATCH}) from 0, no decode`, rate(wall.readLive), rate(wall.readArchive), rate(cpu.readLive), rate(cpu.readArchive), paired(wall.readArchive, wall.readLive), paired(cpu.readArchive, cpu.readLive)],
      ['ProjectionEngine.rebuild from 0', rate(wall.rebuildLive), rate(wall.rebuildArchive), rate(cpu.rebuildLive), rate(cpu.rebuildArchive), paired(wall.rebuildArchive, wall.rebuildLive), paired(cpu.rebuildArchive, cpu.rebuildLive)],
    ],
  });
}
