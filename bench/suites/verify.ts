import { recoverJournal, setChecksumOffload, verifyJournal, warmChecksumOffload } from '@episteme/wal';
import { HEADER_SIZE } from '@episteme/wal/internals';
import { readFileSync } from 'node:fs';
// The cut-offs are not public API, but judging them is this suite's job: read them from the source file itself.
import { BLAKE3_NATIVE_FROM, CRC_NATIVE_FROM } from '../../packages/wal/src/checksum/index.js';
import { blake3Candidates, crcCandidates, inMemoryPasses, providerCosts, type MicroOptions } from '../lib/checksumCosts.js';
import { checkCutoff, type CutoffProbe } from '../lib/cutoffCheck.js';
import { generateJournal, readAllRaw, SEGMENT_BYTES, type GeneratedJournal } from '../lib/journal.js';
import { ratio } from '../lib/table.js';
import { signalCheckpoint } from '../lib/tempDirs.js';
import { interleavedRounds, interleavedRoundsWithCpu, median } from '../lib/timing.js';
import type { BenchContext, Cell, Mode } from '../lib/types.js';

/**
 * How fast a journal can be verified, against the floor of reading its bytes:
 * raw sequential reads vs verifyJournal vs recoverJournal on a clean journal,
 * with the page cache warm (the files were just written), so that the figures
 * measure the CPU cost of the scan, not the disk. Then the checksum costs per
 * record, which explain most of the gap, and the size cut-offs between the
 * JS and native checksum libraries.
 */
export const name = 'verify';

const MiB = 1024 * 1024;
/** Goals from the plan, in MB/s (10^6 B) of segment files. */
const GOAL_MBPS: Record<number, number> = { 256: 300, 4096: 800 };
const PAYLOADS = [256, 4096];

interface Sizes {
  journal: number;
  segment: number;
  rounds: number;
  micro: MicroOptions;
  cutoff: { journal: number; rounds: number };
}

const SIZES: Record<Mode, Sizes> = {
  full: { journal: 256 * MiB, segment: SEGMENT_BYTES, rounds: 5, micro: { rounds: 7, targetMs: 20 }, cutoff: { journal: 16 * MiB, rounds: 9 } },
  quick: { journal: 64 * MiB, segment: SEGMENT_BYTES, rounds: 3, micro: { rounds: 5, targetMs: 8 }, cutoff: { journal: 8 * MiB, rounds: 5 } },
  // Smoke: 1 MiB segments so that even 2 MiB spans several segments (contiguity is exercised).
  smoke: { journal: 2 * MiB, segment: 1 * MiB, rounds: 1, micro: { rounds: 1, targetMs: 0.5 }, cutoff: { journal: MiB / 4, rounds: 1 } },
};

/** Payload sizes on both sides of each cut-off (CRC: 36 + payload bytes; BLAKE3: the payload). */
const CUTOFF_PROBES: CutoffProbe[] = [
  { kind: 'CRC', payloadBytes: 60 },
  { kind: 'CRC', payloadBytes: 100 },
  { kind: 'CRC', payloadBytes: 150 },
  { kind: 'CRC', payloadBytes: 200 },
  { kind: 'BLAKE3', payloadBytes: 1000 },
  { kind: 'BLAKE3', payloadBytes: 1536 },
  { kind: 'BLAKE3', payloadBytes: 2048 },
  { kind: 'BLAKE3', payloadBytes: 3072 },
];

interface ScanFigures {
  journal: GeneratedJournal;
  segments: number;
  rawMs: number;
  verifyMs: number;
  /** verifyJournal with every checksum on the main thread (no offload). */
  verifyOneThreadMs: number;
  /** Process CPU time of verifyJournal (median): what it costs when it has a CPU to itself. */
  verifyCpuMs: number;
  recoverMs: number;
  recoverHeadersMs: number;
  /** ns per record of the in-memory passes over the first 4 MiB of the first segment. */
  memCheckNs: number;
  memCrcNs: number;
  memBlake3Ns: number;
}

function kib(n: number): string {
  return n >= 1024 ? `${n / 1024} KiB` : `${n} B`;
}

/** Fails the suite (not on timing: on a wrong answer, which would make every figure meaningless). */
function expectClean(j: GeneratedJournal, what: string, records: number, problems: number): void {
  if (problems !== 0 || records !== j.records) {
    throw new Error(`${what} on a clean ${kib(j.payloadBytes)} journal: ${records} of ${j.records} records, ${problems} problems`);
  }
}

function measureScans(ctx: BenchContext, payloadBytes: number): ScanFigures {
  const size = SIZES[ctx.mode];
  const dir = ctx.tempDir(`episteme-bench-verify-${payloadBytes}-`);
  ctx.log(`writing a ${size.journal / MiB} MiB journal of ${kib(payloadBytes)} records in ${dir}`);
  const journal = generateJournal(dir, { payloadBytes, totalBytes: size.journal, segmentBytes: size.segment });
  const cases = {
    raw: () => {
      const n = readAllRaw(journal.files);
      if (n !== journal.fileBytes) throw new Error(`raw read ${n} of ${journal.fileBytes} bytes`);
    },
    verify: () => {
      const r = verifyJournal(dir);
      expectClean(journal, 'verifyJournal', r.recordsVerified, r.problems.length);
    },
    verifyOneThread: () => {
      const prev = setChecksumOffload(false);
      try {
        const r = verifyJournal(dir);
        expectClean(journal, 'verifyJournal (one thread)', r.recordsVerified, r.problems.length);
      } finally {
        setChecksumOffload(prev);
      }
    },
    recover: () => {
      const r = recoverJournal(dir);
      expectClean(journal, 'recoverJournal', r.recordsVerified, r.cuts.length);
    },
    // Headers, contiguity and the last segment only: the cheap open a large log may choose.
    recoverHeaders: () => {
      const r = recoverJournal(dir, { scanSealed: false });
      if (r.cuts.length !== 0) throw new Error('recoverJournal (scanSealed: false) cut a clean journal');
    },
  };
  // The first 4 MiB (the read window's size) gone over 8 times: 32 MiB of checks per sample.
  const firstSegment = new Uint8Array(readFileSync(journal.files[0]!));
  const { records: memRecords, passes: mem } = inMemoryPasses(firstSegment, HEADER_SIZE, 4 * MiB, 8);
  const all = { ...cases, memCheck: mem.check, memCrc: mem.crc, memBlake3: mem.blake3 };
  ctx.log(`warm-up, then ${size.rounds} interleaved rounds (checksum worker ${warmChecksumOffload(10_000) ? 'ready' : 'off'})`);
  interleavedRounds(1, all);
  const { wall: s, cpu } = interleavedRoundsWithCpu(size.rounds, all);
  const perRecordNs = (ms: number[]): number => (median(ms) * 1e6) / memRecords;
  return {
    journal,
    segments: journal.files.length,
    rawMs: median(s.raw),
    verifyMs: median(s.verify),
    verifyOneThreadMs: median(s.verifyOneThread),
    verifyCpuMs: median(cpu.verify),
    recoverMs: median(s.recover),
    recoverHeadersMs: median(s.recoverHeaders),
    memCheckNs: perRecordNs(s.memCheck),
    memCrcNs: perRecordNs(s.memCrc),
    memBlake3Ns: perRecordNs(s.memBlake3),
  };
}

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1e3);

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const micro = size.micro;

  ctx.log('checksum costs per record (fast vs reference provider)');
  const perRecord = new Map(PAYLOADS.map((n) => [n, providerCosts(n, micro)]));
  ctx.report({
    title: 'verify: checksum cost per record, ns (fast vs reference provider)',
    notes: [
      'CRC = CRC32C over length + digest + payload (two chained calls, as checkRecordChecksums does); BLAKE3 = payload only.',
      `fast: CRC JS table < ${CRC_NATIVE_FROM} B, @node-rs/crc32 above; BLAKE3 blake3-jit < ${BLAKE3_NATIVE_FROM} B, @napi-rs/blake-hash above.`,
      `reference: bitwise CRC32C, @noble/hashes BLAKE3. Medians of ${micro.rounds} interleaved rounds.`,
    ],
    columns: ['payload', 'fast CRC', 'fast BLAKE3', 'fast total', 'ref CRC', 'ref BLAKE3', 'ref total', 'ref/fast'],
    rows: PAYLOADS.map((n) => {
      const c = perRecord.get(n)!;
      const fast = c.fastCrc + c.fastBlake3;
      const ref = c.refCrc + c.refBlake3;
      return [kib(n), c.fastCrc, c.fastBlake3, fast, c.refCrc, c.refBlake3, ref, ratio(ref, fast)];
    }),
  });

  await signalCheckpoint();
  ctx.log('BLAKE3 cut-off: blake3-jit vs @napi-rs/blake-hash');
  ctx.report({
    title: `verify: BLAKE3 cut-off, ns per call (provider switches to native at ${BLAKE3_NATIVE_FROM} B)`,
    notes: ['jit = blake3-jit hashInto into a reused digest; napi = @napi-rs/blake-hash blake3 + copy of its result (as the provider does).'],
    columns: ['input', 'blake3-jit', 'napi', 'jit/napi', 'faster', 'provider', 'provider uses'],
    rows: [512, 1024, 1536, 2048, 3072, 4096].map((n): Cell[] => {
      const c = blake3Candidates(n, micro);
      return [kib(n), c.jit, c.napi, ratio(c.jit, c.napi), c.jit <= c.napi ? 'jit' : 'napi', c.provider, n < BLAKE3_NATIVE_FROM ? 'jit' : 'napi'];
    }),
  });

  await signalCheckpoint();
  ctx.log('CRC32C cut-off: JS table vs @node-rs/crc32');
  ctx.report({
    title: `verify: CRC32C cut-off, ns per call (provider switches to native at ${CRC_NATIVE_FROM} B)`,
    notes: ['js = crc32cJs slicing-by-8 table; native = @node-rs/crc32 crc32c on a subarray (as the provider calls it).'],
    columns: ['input', 'js table', 'native', 'js/native', 'faster', 'provider', 'provider uses'],
    rows: [64, 96, 128, 192, 256].map((n): Cell[] => {
      const c = crcCandidates(n, micro);
      return [kib(n), c.js, c.native, ratio(c.js, c.native), c.js <= c.native ? 'js' : 'native', c.provider, n < CRC_NATIVE_FROM ? 'js' : 'native'];
    }),
  });

  await signalCheckpoint();
  ctx.log('cut-offs end to end: verifyJournal with the provider vs the other library per size');
  const cutoffRows: Cell[][] = [];
  for (const probe of CUTOFF_PROBES) {
    const r = checkCutoff(ctx.tempDir('episteme-bench-cutoff-'), probe, size.cutoff.journal, size.segment, size.cutoff.rounds);
    const { kind, payloadBytes } = r.probe;
    cutoffRows.push([kind, `${payloadBytes}-${payloadBytes + 3}`, `${r.inputFrom}-${r.inputTo}`, r.providerUses, r.providerMBps, r.otherUses, r.otherMBps, r.wallRatio, r.cpuRatio]);
    await signalCheckpoint();
  }
  ctx.report({
    title: 'verify: cut-offs end to end, verifyJournal MB/s with the provider vs the other library at that size',
    notes: [
      `Journals of ${size.cutoff.journal / MiB} MiB, payload sizes N..N+3 (every alignment); medians of ${size.cutoff.rounds} interleaved rounds.`,
      'other/provider > 1 means the cut-off should move to include this size on the other side (check the CPU-time ratio agrees).',
    ],
    columns: ['checksum', 'payload', 'input B', 'provider uses', 'provider MB/s', 'other', 'other MB/s', 'other/provider', 'by CPU'],
    rows: cutoffRows,
  });

  const scans: ScanFigures[] = [];
  for (const n of PAYLOADS) {
    scans.push(measureScans(ctx, n));
    await signalCheckpoint();
  }

  ctx.report({
    title: 'verify: journal scan throughput, warm page cache',
    notes: [
      'Goals: verify >= 800 MB/s with 4 KiB payloads, >= 300 MB/s with 256 B payloads (MB = 10^6 B of segment files).',
      `raw = sequential readSync of every segment into one 4 MiB buffer; medians of ${size.rounds} interleaved rounds.`,
      'verify checks half of each run of records on a worker thread while the main thread checks the other half (checksum offload);',
      '1 thread = the same with every checksum on the main thread; gain = verify MB/s / 1-thread MB/s.',
      'by CPU = bytes / process CPU time of verifyJournal (both threads); the goal is judged on wall time.',
    ],
    columns: ['payload', 'MiB', 'segments', 'records', 'raw MB/s', 'verify MB/s', 'verify rec/s', 'verify/raw', '1 thread MB/s', 'gain', 'by CPU MB/s', 'goal MB/s', 'goal met'],
    rows: scans.map((f) => {
      const v = mbps(f.journal.fileBytes, f.verifyMs);
      const goal = GOAL_MBPS[f.journal.payloadBytes] ?? null;
      return [
        kib(f.journal.payloadBytes),
        f.journal.fileBytes / MiB,
        f.segments,
        f.journal.records,
        mbps(f.journal.fileBytes, f.rawMs),
        v,
        f.journal.records / (f.verifyMs / 1e3),
        ratio(v, mbps(f.journal.fileBytes, f.rawMs)),
        mbps(f.journal.fileBytes, f.verifyOneThreadMs),
        ratio(f.verifyOneThreadMs, f.verifyMs),
        mbps(f.journal.fileBytes, f.verifyCpuMs),
        goal,
        goal === null ? '-' : v >= goal ? 'yes' : 'no',
      ];
    }),
  });

  ctx.report({
    title: 'verify: open times on the clean journal, ms',
    notes: [
      'recover = recoverJournal (default: scans sealed segments too); headers-only = recoverJournal({ scanSealed: false }),',
      'which still scans the last segment (all of a one-segment journal).',
    ],
    columns: ['payload', 'raw read', 'verify', 'recover', 'recover/verify', 'headers-only recover'],
    rows: scans.map((f) => [kib(f.journal.payloadBytes), f.rawMs, f.verifyMs, f.recoverMs, ratio(f.recoverMs, f.verifyMs), f.recoverHeadersMs]),
  });

  ctx.report({
    title: 'verify: where the time goes, ns per record (same rounds as above)',
    notes: [
      'in-memory = passes over the first 4 MiB of a segment already in memory (cache-resident, like the 4 MiB read window):',
      'the whole record check (checkRecordChecksums), CRC alone, BLAKE3 alone;',
      'raw = reading the bytes; rest = verify - raw - in-memory check (scan loop, window, per-segment setup).',
    ],
    columns: ['payload', 'verify', 'raw read', 'in-mem check', 'CRC', 'BLAKE3', 'rest', 'check share', 'check-only MB/s'],
    rows: scans.map((f) => {
      const verify = (f.verifyMs * 1e6) / f.journal.records;
      const raw = (f.rawMs * 1e6) / f.journal.records;
      const recordBytes = f.journal.fileBytes / f.journal.records;
      return [
        kib(f.journal.payloadBytes),
        verify,
        raw,
        f.memCheckNs,
        f.memCrcNs,
        f.memBlake3Ns,
        verify - raw - f.memCheckNs,
        `${Math.round((100 * f.memCheckNs) / verify)}%`,
        recordBytes / f.memCheckNs * 1e3,
      ];
    }),
  });
}
