import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EncodedCommitsBuilder } from '@episteme/store/encoded';
import { prepareRun, type PreparedRun } from './preparedBatch.js';
import type { PrepareReply, PrepareRequest } from './prepareWorker.js';

export interface PreparePoolOptions {
  /** Worker threads to start (0: everything on the calling thread). */
  workers: number;
  /**
   * Lines prepared on the calling thread before the workers start: a small
   * import does not pay their start-up (loading class-validator in each,
   * tens of milliseconds).
   */
  startAfterLines: number;
  /** The worker's module (tests: one that dies); the pool's own worker by default. */
  workerUrl?: URL;
}

/** Input from which a worker pays for its start on two cores (~200,000 lines of ~110 B). */
export const WORKER_FROM_BYTES = 20_000_000;
/** Lines read from an input of unknown size (a pipe) before a worker starts on two cores: about WORKER_FROM_BYTES. */
const WORKER_AFTER_LINES_UNSIZED = 200_000;

/**
 * Workers an import uses by default, chosen by measurement (bench/issues/25-app-write-path.md,
 * "Sixth pass"): a worker takes a line's parsing, validation and encoding
 * off the appending thread (3.6-4.0 µs of its CPU a line instead of
 * 6.2-6.8) for ~100-130 ms to start (class-validator's load alone is 90
 * ms). On this 2-core machine, quiet, built code, `episteme import` of
 * 60,000 / 100,000 / 150,000 / 200,000 / 400,000 lines with a worker from
 * the start against none: no faster up to 150,000 lines (at 60,000
 * 0.77-0.81 s against 0.69-0.83), 10-25% faster from 200,000 (22 MB). So
 * on two cores one worker starts at once for a file of WORKER_FROM_BYTES or
 * more, never for a smaller file, and after 200,000 lines of a pipe; with
 * more cores it starts after 2,000 lines; with one core there is none.
 * `inputBytes`: the file's size, undefined for a pipe. `--workers` overrides.
 * `cores`: this machine's (tests give others).
 */
export function defaultPrepareOptions(inputBytes?: number, cores = availableParallelism()): PreparePoolOptions {
  if (cores <= 1) return { workers: 0, startAfterLines: 2000 };
  if (cores > 2) return { workers: 1, startAfterLines: 2000 };
  if (inputBytes === undefined) return { workers: 1, startAfterLines: WORKER_AFTER_LINES_UNSIZED };
  return inputBytes >= WORKER_FROM_BYTES ? { workers: 1, startAfterLines: 2000 } : { workers: 0, startAfterLines: 2000 };
}

interface Slot {
  worker: Worker;
  /** Jobs sent and not answered. */
  load: number;
  /** Loaded (class-validator and all): until then the calling thread prepares, instead of waiting for it. */
  ready: boolean;
  dead: boolean;
  /** Its thread has ended. */
  exited: boolean;
}

interface Job {
  slot: Slot;
  lines: string[];
  resolve: (run: PreparedRun) => void;
  reject: (err: unknown) => void;
}

/**
 * Prepares import lines (JSON.parse, validation, encoding) on worker
 * threads, each run of lines resolving in the order asked for its own
 * promise. An optimisation only: when workers are off, not started yet or
 * gone (a worker that fails to load or dies), the lines are prepared on the
 * calling thread with the same result, so an import never depends on them.
 */
export class PreparePool {
  private readonly slots: Slot[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextJob = 0;
  private linesSeen = 0;
  private started = false;
  private closed = false;
  /** Runs answered by a worker so far (tests check which path prepared them). */
  answeredByWorkers = 0;
  private readonly builder: EncodedCommitsBuilder;

  constructor(
    private readonly producer: string,
    /** The store's payload limit: each line's commit is checked against it where it is prepared. */
    private readonly maxPayloadBytes: number,
    private readonly options: PreparePoolOptions = defaultPrepareOptions(),
  ) {
    this.builder = new EncodedCommitsBuilder(maxPayloadBytes);
  }

  /** Workers this pool may start. */
  get workers(): number {
    return this.options.workers;
  }

  /** Workers loaded and running now (tests). */
  get liveWorkers(): number {
    return this.slots.filter((s) => s.ready && !s.dead).length;
  }

  /** Worker threads started and not ended (tests: none after close). */
  get runningThreads(): number {
    return this.slots.filter((s) => !s.exited).length;
  }

  /** Resolves once every worker started is loaded or gone (tests). */
  async settled(): Promise<void> {
    while (this.slots.some((s) => !s.ready && !s.dead)) await new Promise((r) => setTimeout(r, 10));
  }

  /** `lines` prepared, in their order: the valid ones as commits, and why the others were refused. */
  prepare(lines: string[]): Promise<PreparedRun> {
    this.linesSeen += lines.length;
    if (!this.started && this.options.workers > 0 && this.linesSeen > this.options.startAfterLines) this.start();
    const slot = this.pick();
    let promise: Promise<PreparedRun>;
    if (slot === undefined) {
      try {
        promise = Promise.resolve(this.here(lines));
      } catch (err) {
        promise = Promise.reject(err);
      }
    } else {
      const job = this.nextJob++;
      promise = new Promise((resolve, reject) => this.jobs.set(job, { slot, lines, resolve, reject }));
      slot.load++;
      // one string, not one per line: a line holds no line end, and cloning a list of strings cost about 1.5 µs a line
      slot.worker.postMessage({ job, text: lines.join('\n'), producer: this.producer, maxPayloadBytes: this.maxPayloadBytes } satisfies PrepareRequest);
    }
    // a caller that stops early (an append failed) leaves later runs unawaited: not an unhandled rejection
    promise.catch(() => undefined);
    return promise;
  }

  /** Stops the workers; runs not yet answered reject (the pool is closed). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.jobs.values()) job.reject(new Error('the import workers were stopped before this run was prepared'));
    this.jobs.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }

  private here(lines: string[]): PreparedRun {
    return prepareRun(lines, this.producer, this.builder);
  }

  private start(): void {
    this.started = true;
    const { url, workerData } = this.options.workerUrl ? { url: this.options.workerUrl, workerData: undefined } : workerModule();
    for (let i = 0; i < this.options.workers; i++) {
      let worker: Worker;
      try {
        worker = new Worker(url, { workerData, stdout: true });
      } catch {
        return; // the lines are prepared here instead
      }
      const slot: Slot = { worker, load: 0, ready: false, dead: false, exited: false };
      worker.on('message', (reply: PrepareReply) => this.settle(slot, reply));
      worker.on('error', () => this.lose(slot));
      worker.on('exit', () => {
        slot.exited = true;
        this.lose(slot);
      });
      this.slots.push(slot);
    }
  }

  /** The ready worker with the fewest runs waiting, if any. */
  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (s.ready && !s.dead && (best === undefined || s.load < best.load)) best = s;
    return best;
  }

  private settle(slot: Slot, reply: PrepareReply): void {
    if ('ready' in reply) {
      slot.ready = true;
      return;
    }
    const job = this.jobs.get(reply.job);
    if (job === undefined) return;
    this.jobs.delete(reply.job);
    slot.load--;
    this.answeredByWorkers++;
    if ('error' in reply) {
      // the worker's stack, shown with --debug like any unexpected error's, not in the one-line message
      const err = new Error(`preparing import lines failed in a worker thread: ${reply.error.message}`);
      if (reply.error.stack) err.stack = `${err.message}\n(in the worker) ${reply.error.stack}`;
      job.reject(err);
    } else {
      job.resolve(reply.run);
    }
  }

  /** A worker failed to load or died: its runs are prepared here, in the order they were asked. */
  private lose(slot: Slot): void {
    if (slot.dead || this.closed) return;
    slot.dead = true;
    for (const [id, job] of [...this.jobs].sort((a, b) => a[0] - b[0])) {
      if (job.slot !== slot) continue;
      this.jobs.delete(id);
      try {
        job.resolve(this.here(job.lines));
      } catch (err) {
        job.reject(err);
      }
    }
  }
}

/**
 * The worker's module: the built one next to this file, or, running from
 * TypeScript sources, a small loader that imports the .ts worker through tsx
 * (see sourceWorker.mjs).
 */
function workerModule(): { url: URL; workerData?: { entry: string } } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./prepareWorker.js', import.meta.url) };
  return { url: new URL('./sourceWorker.mjs', import.meta.url), workerData: { entry: new URL('./prepareWorker.ts', import.meta.url).href } };
}
