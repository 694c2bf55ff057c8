import { readFileSync } from 'node:fs';

/**
 * Timing helpers. Every comparison in bench/ is made inside one run, with the
 * candidates interleaved round by round and the median kept: this VM's disk
 * and CPU have fast and slow phases lasting seconds (shared/notes), so two
 * figures taken minutes apart are not comparable, and a mean would let one
 * slow phase dominate.
 */

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/**
 * The main thread's own time on a CPU and its time waiting in the run queue
 * for one (ms), from Linux's schedstat; undefined elsewhere. Process CPU time
 * mixes in worker threads (the checksum offload): this tells whether the
 * main thread was busy, descheduled by other load, or blocked on a worker.
 */
export function mainThreadSched(): { cpuMs: number; queuedMs: number } | undefined {
  try {
    const [cpu, queued] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return { cpuMs: Number(cpu) / 1e6, queuedMs: Number(queued) / 1e6 };
  } catch {
    return undefined;
  }
}

/** Milliseconds `fn` took, with its result. */
export function timeMs<T>(fn: () => T): { ms: number; result: T } {
  const t0 = nowNs();
  const result = fn();
  return { ms: Number(nowNs() - t0) / 1e6, result };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs every case once per round, rotating the starting case each round so
 * that no case always runs first (cold) or right after the same neighbour.
 * Returns the wall-clock milliseconds of each run per case, and the process
 * CPU time (user + system, all threads) of each run: other work on this
 * shared 2-vCPU VM stretches wall time while a CPU-bound case is descheduled,
 * which CPU time does not count, so the two side by side show contention.
 */
export function interleavedRoundsWithCpu<K extends string>(
  rounds: number,
  cases: Record<K, () => unknown>,
): { wall: Record<K, number[]>; cpu: Record<K, number[]> } {
  const names = Object.keys(cases) as K[];
  const empty = (): Record<K, number[]> => Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const wall = empty();
  const cpu = empty();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const c0 = process.cpuUsage();
      wall[name].push(timeMs(cases[name]).ms);
      const c = process.cpuUsage(c0);
      cpu[name].push((c.user + c.system) / 1e3);
    }
  }
  return { wall, cpu };
}

/** interleavedRoundsWithCpu, wall-clock milliseconds only. */
export function interleavedRounds<K extends string>(rounds: number, cases: Record<K, () => unknown>): Record<K, number[]> {
  return interleavedRoundsWithCpu(rounds, cases).wall;
}

/**
 * A micro-benchmark case: `batch(iterations)` runs the operation that many
 * times in its own loop and returns something derived from every result, so
 * that the work cannot be optimised away. Each case writes its own loop on
 * purpose: a shared loop calling different functions would make its call
 * site polymorphic and charge every case for the dispatch.
 */
export type Batch = (iterations: number) => number;

let sink = 0;

/**
 * Iterations for which one batch takes about `targetMs`. The first calls run
 * interpreted and may compile code (blake3-jit compiles its WASM on first
 * use), so a single cold timing would pick a tiny batch dominated by warm-up:
 * double until a batch takes `targetMs`, then time a few more batches of that
 * size and estimate from the fastest (the JIT has settled by then).
 */
export function calibrate(batch: Batch, targetMs: number): number {
  const run = (n: number): number => {
    const t0 = nowNs();
    sink ^= batch(n);
    return Number(nowNs() - t0) / 1e6;
  };
  let n = 1;
  while (run(n) < targetMs && n < 1 << 30) n *= 2;
  const best = Math.min(run(n), run(n), run(n));
  return Math.max(1, Math.round((n * targetMs) / Math.max(best, 1e-3)));
}

/**
 * ns per operation for each case: calibrated batches of about `targetMs`,
 * interleaved over `rounds`, median per case.
 */
export function nsPerOp<K extends string>(cases: Record<K, Batch>, rounds: number, targetMs: number): Record<K, number> {
  const names = Object.keys(cases) as K[];
  const iterations = Object.fromEntries(names.map((n) => [n, calibrate(cases[n], targetMs)])) as Record<K, number>;
  const samples = interleavedRounds(
    rounds,
    Object.fromEntries(names.map((n) => [n, () => (sink ^= cases[n](iterations[n]))])) as Record<K, () => unknown>,
  );
  return Object.fromEntries(names.map((n) => [n, (median(samples[n]) * 1e6) / iterations[n]])) as Record<K, number>;
}

/** Read by nobody; exported so that the bundler/JIT must keep the results. */
export function benchSink(): number {
  return sink;
}

/**
 * interleavedRoundsWithCpu for cases that are async (they await a journal, a
 * consumer): the same rotation, each case awaited alone, with a turn of the
 * event loop between cases so that a pending SIGINT/SIGTERM can be handled.
 */
export async function interleavedRoundsAsync<K extends string>(
  rounds: number,
  cases: Record<K, () => unknown>,
  /** Set-up run just before a case, outside its timing (a consumer's cursor reset to 0). */
  before: Partial<Record<K, () => unknown>> = {},
): Promise<{ wall: Record<K, number[]>; cpu: Record<K, number[]>; mainCpu: Record<K, number[]>; mainQueued: Record<K, number[]> }> {
  const names = Object.keys(cases) as K[];
  const empty = (): Record<K, number[]> => Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const wall = empty();
  const cpu = empty();
  // main thread only (Linux; NaN elsewhere)
  const mainCpu = empty();
  const mainQueued = empty();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      await before[name]?.();
      const c0 = process.cpuUsage();
      const s0 = mainThreadSched();
      const t0 = nowNs();
      await cases[name]();
      wall[name].push(Number(nowNs() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      const s1 = mainThreadSched();
      cpu[name].push((c.user + c.system) / 1e3);
      mainCpu[name].push(s0 && s1 ? s1.cpuMs - s0.cpuMs : NaN);
      mainQueued[name].push(s0 && s1 ? s1.queuedMs - s0.queuedMs : NaN);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return { wall, cpu, mainCpu, mainQueued };
}
