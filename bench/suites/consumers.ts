import { ConsumerRegistry, runConsumer, type RunOptions } from '@episteme/consumers';
import { Journal, nodeFileIO, type FileIO } from '@episteme/wal';
import { HEADER_SIZE, RECORD_OVERHEAD } from '@episteme/wal/internals';
import { countWithReadMany, generateJournal, readAllRaw, SEGMENT_BYTES } from '../lib/journal.js';
import { interleavedRoundsAsync, median } from '../lib/timing.js';
import type { BenchContext, Cell, Mode } from '../lib/types.js';

/**
 * Consumer catch-up throughput (issue 4): records/s handed to a no-op handler
 * by runConsumer (commit every 1,000 records, stopAtHead), next to the raw
 * rates of the same journal read with readFrom and readMany, interleaved in
 * one run with a warm page cache, so that the figures measure the consumer's
 * own cost. Extra rows split that cost: a batch handler, and commits only at
 * the end (no cursor file written every 1,000 records).
 */
export const name = 'consumers';

const PAYLOAD = 256;
const GOAL_RATIO = 0.9;
/** runConsumer's default batch size: the readMany row reads as the consumer does. */
const CONSUMER_BATCH = 256;

const SIZES: Record<Mode, { records: number; rounds: number }> = {
  full: { records: 1_000_000, rounds: 5 },
  quick: { records: 200_000, rounds: 3 },
  smoke: { records: 5_000, rounds: 1 },
};

let sink = 0;

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const dir = ctx.tempDir('episteme-bench-consumers-');
  const recordBytes = RECORD_OVERHEAD + PAYLOAD;
  const segments = Math.ceil((size.records * recordBytes) / SEGMENT_BYTES);
  // enough bytes for the records plus a header and a spare record per segment (generateJournal fills segments evenly)
  const journalFiles = generateJournal(dir, { payloadBytes: PAYLOAD, totalBytes: size.records * recordBytes + segments * (HEADER_SIZE + recordBytes) });
  const records = journalFiles.records;
  ctx.log(`journal of ${records.toLocaleString('en-US')} records of ${PAYLOAD} B in ${journalFiles.files.length} segment(s), ${dir}`);

  const journal = await Journal.open({ dir });
  // no cleanup: the rounds read the same records again
  // commits counted and their syncs timed through the cursor files' FileIO seam
  let commits = 0;
  let syncMs = 0;
  const timed = (fn: () => void): void => {
    const t0 = performance.now();
    try {
      fn();
    } finally {
      syncMs += performance.now() - t0;
    }
  };
  // the runner's commits sync off the event loop: their time is in flight, not blocking the handler
  const timedAsync = async (fn: () => Promise<void>): Promise<void> => {
    const t0 = performance.now();
    try {
      await fn();
    } finally {
      syncMs += performance.now() - t0;
    }
  };
  // every commit syncs its cursor file once (in place, or a new file when it is created)
  const io: FileIO = {
    ...nodeFileIO,
    fsync: (fd) => (commits++, timed(() => nodeFileIO.fsync(fd))),
    syncDir: (d) => timed(() => nodeFileIO.syncDir(d)),
    fsyncAsync: (fd) => (commits++, timedAsync(() => nodeFileIO.fsyncAsync(fd))),
  };
  const registry = ConsumerRegistry.forJournal(journal, { io, autoCleanup: false, logger: { warn: (m) => ctx.log(`registry: ${m}`) } });

  const expect = (what: string, n: number): void => {
    if (n !== records) throw new Error(`${what} went over ${n} of ${records} records`);
  };
  const commitsPerRun = new Map<string, number[]>();
  const syncMsPerRun = new Map<string, number[]>();
  // registered once, reset to 0 before each run outside its timing (the reset's sync is the bench's, not the runner's)
  const resets: Record<string, () => void> = {};
  // what a user gets by default: the registry cleans up after commits (it reads every consumer's cursor file);
  // a consumer left at 0 holds every segment, so that the rounds read them again
  const defaultRegistry = ConsumerRegistry.forJournal(journal, { io, logger: { warn: (m) => ctx.log(`registry: ${m}`) } });
  defaultRegistry.register('bench-holder');
  const consumer = (key: string, options: RunOptions, over = registry) => {
    over.register(key);
    resets[key] = () => over.reset(key, 0);
    return () => runOnce(key, options, over);
  };
  const runOnce = async (key: string, options: RunOptions, over: ConsumerRegistry): Promise<void> => {
    const c0 = commits;
    const s0 = syncMs;
    const r = await runConsumer(over, key, { stopAtHead: true, ...options });
    syncMsPerRun.set(key, [...(syncMsPerRun.get(key) ?? []), syncMs - s0]);
    if (r.state !== 'stopped' || r.cursor !== journal.head) throw new Error(`consumer ${key} ended ${r.state} at ${r.cursor} (head ${journal.head}): ${r.error?.message ?? ''}`);
    expect(`consumer ${key}`, r.handled);
    commitsPerRun.set(key, [...(commitsPerRun.get(key) ?? []), commits - c0]);
  };
  const noop = (): void => undefined;

  const cases = {
    rawBytes: () => {
      const n = readAllRaw(journalFiles.files);
      if (n !== journalFiles.fileBytes) throw new Error(`raw read ${n} of ${journalFiles.fileBytes} bytes`);
    },
    readFrom: async () => {
      let n = 0;
      for await (const r of journal.readFrom(0)) {
        sink ^= r.payload.length;
        n++;
      }
      expect('readFrom', n);
    },
    readMany: () => {
      expect('readMany', countWithReadMany(journal, CONSUMER_BATCH));
    },
    handler: consumer('bench-handler', { handler: noop, commitEveryRecords: 1000 }),
    // runConsumer's defaults (commit every 1,000 records or 1 s: the handler row's policy) over the default registry
    handlerDefaults: consumer('bench-defaults', { handler: noop }, defaultRegistry),
    batchHandler: consumer('bench-batch', { batchHandler: noop, commitEveryRecords: 1000 }),
    handlerCommitAtEnd: consumer('bench-end', { handler: noop, commitEveryRecords: 1e9, commitEveryMs: 1e9 }),
  };
  const before = { handler: resets['bench-handler'], handlerDefaults: resets['bench-defaults'], batchHandler: resets['bench-batch'], handlerCommitAtEnd: resets['bench-end'] };
  ctx.log(`warm-up, then ${size.rounds} interleaved rounds`);
  let timings: Awaited<ReturnType<typeof interleavedRoundsAsync<keyof typeof cases>>>;
  try {
    await interleavedRoundsAsync(1, cases, before);
    commitsPerRun.clear();
    syncMsPerRun.clear();
    timings = await interleavedRoundsAsync(size.rounds, cases, before);
  } finally {
    await journal.close();
  }
  const { wall, cpu } = timings;

  const rate = (ms: number[]): number => records / (median(ms) / 1000);
  const readFromRate = rate(wall.readFrom);
  const readManyRate = rate(wall.readMany);
  const pairedRatio = (a: number[], b: number[]): number => median(a.map((ms, i) => b[i]! / ms));
  const row = (label: string, key: keyof typeof cases, commitsKey?: string): Cell[] => [
    label,
    rate(wall[key]),
    rate(cpu[key]),
    (rate(wall[key]) * recordBytes) / 1e6,
    commitsKey ? median(commitsPerRun.get(commitsKey) ?? []) : null,
    commitsKey ? median(syncMsPerRun.get(commitsKey) ?? []) : null,
    key === 'rawBytes' ? null : pairedRatio(wall[key], wall.readFrom),
    key === 'rawBytes' ? null : pairedRatio(wall[key], wall.readMany),
  ];
  ctx.report({
    title: `consumers: catch-up throughput over ${records.toLocaleString('en-US')} records of ${PAYLOAD} B, warm page cache`,
    notes: [
      `Goal: consumer (no-op handler, commit every 1,000 records) >= ${GOAL_RATIO * 100}% of the raw read rate. Every 1,000 records (or 1 s) is runConsumer's`,
      'default policy; the default registry also cleans up after commits, which the other rows turn off (their rounds read the log again).',
      `rec/s = records / median wall time of ${size.rounds} interleaved rounds; by CPU = records / median process CPU time (what it costs with a CPU to itself).`,
      `readMany reads ${CONSUMER_BATCH} records per call (runConsumer's batch size); a commit overwrites one slot of the cursor file and fdatasyncs it.`,
      'commits = cursor file syncs per run; sync ms = time per run from each sync\'s start until the runner saw it end (medians). The runner',
      'syncs its commits off the event loop (at most one in flight) while it handles the next records, and sees a sync end at its pauses',
      '(every 10 ms with a handler that never awaits): so a catch-up commits about every 10 ms. The final commit blocks.',
      'raw bytes = readSync of the segment files into a 4 MiB buffer (no records); ratios are medians of same-round ratios.',
    ],
    columns: ['reader', 'rec/s', 'by CPU rec/s', 'MB/s', 'commits', 'sync ms', '/ readFrom', '/ readMany'],
    rows: [
      row('raw bytes (readAllRaw)', 'rawBytes'),
      row('journal.readFrom (async iterator)', 'readFrom'),
      row(`journal.readMany(pos, ${CONSUMER_BATCH}) loop`, 'readMany'),
      row('runConsumer, no-op handler, commit every 1,000', 'handler', 'bench-handler'),
      row('the same, default registry (cleanup after commits)', 'handlerDefaults', 'bench-defaults'),
      row('runConsumer, no-op batchHandler, commit every 1,000', 'batchHandler', 'bench-batch'),
      row('runConsumer, no-op handler, commit at the end only', 'handlerCommitAtEnd', 'bench-end'),
    ],
  });

  const handlerRate = rate(wall.handler);
  const goal = (what: string, measured: number): Cell[] => [what, measured, `>= ${GOAL_RATIO}`, measured >= GOAL_RATIO ? 'yes' : 'no'];
  const handlerCommits = Math.max(1, median(commitsPerRun.get('bench-handler') ?? [1]));
  const perCommitMs = (median(wall.handler) - median(wall.handlerCommitAtEnd)) / handlerCommits;
  const perCommitSyncMs = median(syncMsPerRun.get('bench-handler') ?? [0]) / handlerCommits;
  ctx.report({
    title: 'consumers: goal',
    notes: [
      `handler ${Math.round(handlerRate).toLocaleString('en-US')} rec/s, readFrom ${Math.round(readFromRate).toLocaleString('en-US')} rec/s, readMany ${Math.round(readManyRate).toLocaleString('en-US')} rec/s.`,
      `Commits cost the handler about ${perCommitMs.toFixed(3)} ms each (handler run with commits every 1,000 minus commit-at-end run, per commit);`,
      `each was in flight ${perCommitSyncMs.toFixed(2)} ms until the runner saw its end, overlapped with handling.`,
    ],
    columns: ['goal', 'measured', 'target', 'met'],
    rows: [
      goal('consumer handler / readFrom', pairedRatio(wall.handler, wall.readFrom)),
      goal('consumer handler / readMany', pairedRatio(wall.handler, wall.readMany)),
      goal('consumer handler / readMany, by CPU', pairedRatio(cpu.handler, cpu.readMany)),
      goal('the same, default registry / readMany', pairedRatio(wall.handlerDefaults, wall.readMany)),
      goal('the same, default registry / readMany, by CPU', pairedRatio(cpu.handlerDefaults, cpu.readMany)),
    ],
  });
  if (sink === 0.5) ctx.log('unreachable');
}
