import { binaryCodec, InMemorySnapshotStore, ProjectionEngine, type BinarySchema, type Projection } from '@episteme/projections';
import { Journal } from '@episteme/wal';
import { countWithReadMany } from '../lib/journal.js';
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

const TYPES = [
  'OrderPlaced',
  'OrderShipped',
  'OrderCancelled',
  'PaymentReceived',
  'PaymentRefunded',
  'ItemAdded',
  'ItemRemoved',
  'CustomerRegistered',
  'AddressChanged',
  'CouponApplied',
  'InventoryAdjusted',
  'CartAbandoned',
];

type Counts = Record<string, number>;

/** Event i as JSON, ~200 B; the type is spread unevenly by a multiplicative hash. */
function eventJson(i: number): string {
  const type = TYPES[(Math.imul(i, 2654435761) >>> 0) % TYPES.length]!;
  const at = new Date(Date.UTC(2026, 10, 23) + i * 997).toISOString();
  return JSON.stringify({
    type,
    id: `evt-${String(i).padStart(9, '0')}`,
    stream: `order-${(i * 7919) % 100_000}`,
    at,
    v: i % 7,
    data: { sku: `SKU-${String((i * 31) % 100_000).padStart(5, '0')}`, qty: 1 + (i % 5), price: ((i * 37) % 100_000) / 100, currency: 'EUR', customer: `cust-${(i * 13) % 50_000}`, channel: i % 3 ? 'web' : 'store' },
  });
}

/** The bench's events for the binary codec: every type has the same fields. */
const SCHEMA: BinarySchema = {
  types: Object.fromEntries(
    TYPES.map((t) => [t, { id: 'string', stream: 'string', at: 'string', v: 'int', data: { sku: 'string', qty: 'int', price: 'float', currency: 'string', customer: 'string', channel: 'string' } }]),
  ),
};
const binary = binaryCodec<{ type: string }>(SCHEMA);

const countByType: Projection<Counts, { type: string }> = {
  name: 'count-by-type',
  version: 1,
  initialState: () => ({}),
  apply: (state, event) => {
    state[event.type] = (state[event.type] ?? 0) + 1;
    return state;
  },
};

/** The same projection over the same events stored with the binary codec. */
const countByTypeBinary: Projection<Counts, { type: string }> = { ...countByType, name: 'count-by-type-binary', codec: binary };

function sameCounts(a: Counts, b: Counts): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const dir = ctx.tempDir('episteme-bench-rebuild-');

  // The payloads, concatenated in memory (one buffer, offsets), and written to the journal.
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const chunks: Uint8Array[] = [];
  const offsets = new Int32Array(size.events + 1);
  const expected: Counts = {};
  let bytes = 0;
  for (let i = 0; i < size.events; i++) {
    const json = eventJson(i);
    const b = encoder.encode(json);
    chunks.push(b);
    offsets[i] = bytes;
    bytes += b.length;
    const type = (JSON.parse(json) as { type: string }).type;
    expected[type] = (expected[type] ?? 0) + 1;
  }
  offsets[size.events] = bytes;
  const all = new Uint8Array(bytes);
  chunks.forEach((c, i) => all.set(c, offsets[i]!));
  chunks.length = 0;
  // the same events with the binary codec, also in one buffer
  const binOffsets = new Int32Array(size.events + 1);
  let binBytes = 0;
  for (let i = 0; i < size.events; i++) {
    const b = binary.encode(JSON.parse(decoder.decode(all.subarray(offsets[i], offsets[i + 1]))) as { type: string });
    chunks.push(b);
    binOffsets[i] = binBytes;
    binBytes += b.length;
  }
  binOffsets[size.events] = binBytes;
  const allBin = new Uint8Array(binBytes);
  chunks.forEach((c, i) => allBin.set(c, binOffsets[i]!));
  chunks.length = 0;
  const avg = bytes / size.events;
  const binDir = ctx.tempDir('episteme-bench-rebuild-binary-');
  ctx.log(`writing ${size.events.toLocaleString('en-US')} events as JSON (avg ${avg.toFixed(0)} B) to ${dir}, binary (avg ${(binBytes / size.events).toFixed(0)} B) to ${binDir}`);
  const write = async (into: string, buf: Uint8Array, at: Int32Array): Promise<void> => {
    const writer = await Journal.open({ dir: into, durability: 'none' });
    try {
      for (let i = 0; i < size.events; i += 4096) {
        const batch: Uint8Array[] = [];
        for (let k = i; k < Math.min(size.events, i + 4096); k++) batch.push(buf.subarray(at[k], at[k + 1]));
        await writer.appendBatch(batch);
      }
    } finally {
      await writer.close();
    }
  };
  await write(dir, all, offsets);
  await write(binDir, allBin, binOffsets);

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
