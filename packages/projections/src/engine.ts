import { ConsumerErrorCodes, type ConsumerRegistry, type Logger } from '@episteme/consumers';
import { isEpistemeError, WalErrorCodes, type FileIO, type Journal, type JournalReader, type LogReader, type TelemetryOptions } from '@episteme/wal';
import { codeOf, sleep, unknownOptionKey, unknownOptionMessage } from '@episteme/wal/internals';
import { validateInitialState, validateProjection, type AnyProjection } from './definition.js';
import { InvalidProjectionArgumentError, ProjectionBusyError, ProjectionNotFoundError } from './errors.js';
import { registerProjectionCursor, reportUnrepairedProjectionCursor } from './projectionCursor.js';
import { ProjectionRuntime } from './projectionRuntime.js';
import type { ProjectionInfo, RebuildProgress, RebuildReason, RebuildReport, StartReport } from './reports.js';
import { RebuildTracer } from './telemetry.js';
import { FileSnapshotStore, type SnapshotStore } from './stores.js';
import type { LocalEventStore } from '@episteme/store';

export interface EngineOptions {
  /** The log the projections read. */
  log: LogReader;
  /**
   * When given, each projection is a consumer here. The writer's registry
   * (one with a Retention) keeps its cursor at the projection's durable
   * checkpoint, so that it holds back cleanup; a reader's is only told
   * about such a cursor's damage, which it cannot repair.
   */
  registry?: ConsumerRegistry;
  /** Where snapshots are kept (ProjectionEngine.forJournal: files in `<journal>/projections/`). */
  store: SnapshotStore;
  /** Snapshot after this many events (default 10,000)... */
  snapshotEveryEvents?: number;
  /** ...or this long after the last snapshot, whichever comes first (default 5 s). */
  snapshotEveryMs?: number;
  /** Records read per batch (default 4096). */
  batchSize?: number;
  /** Progress of every rebuild (start and on demand). */
  onProgress?: (p: RebuildProgress) => void;
  logger?: Logger;
  /** A span per rebuild through `@opentelemetry/api` (docs/operations.md): the global tracer provider by default, none with `false`. */
  telemetry?: TelemetryOptions | false;
}

/** `ProjectionEngine.forJournal`'s options: the store defaults to files in the journal's directory, on `io`. */
export type JournalEngineOptions = Omit<EngineOptions, 'log' | 'store'> & { store?: SnapshotStore; io?: FileIO };

export interface StartOptions {
  /** Keep applying new records as they become durable, until `stop()` or the signal (default true). */
  follow?: boolean;
  /**
   * Aborting it cuts the start short (the projections not yet caught up
   * report `mode: 'aborted'` and do not follow) and ends the follow loops,
   * also those that `rebuild()` paused and resumed. `stop()` still saves.
   */
  signal?: AbortSignal;
  /** Rebuild these projections from 0 even when their snapshot is good. */
  rebuild?: string[];
}

interface FollowLoop {
  abort: AbortController;
  /** The start's signal, kept so that a loop resumed after `rebuild()` still obeys it. */
  signal: AbortSignal | undefined;
  done: Promise<void>;
}

/**
 * Runs projections over a log: on start each one resumes from its
 * snapshot or is rebuilt from offset 0 (the reason is reported); then it
 * follows the head, snapshotting state and checkpoint together.
 */
export class ProjectionEngine {
  private readonly runtimes = new Map<string, ProjectionRuntime>();
  /** Only running loops: a loop that ends (stopped, aborted, failed) removes itself. */
  private readonly loops = new Map<string, FollowLoop>();
  /** The start in progress, which `stop()` aborts and waits for. */
  private starting: { abort: AbortController; done: Promise<void> } | undefined;
  /** Counts `stop()` calls: a `rebuild()` resumes its loop only if no stop came meanwhile. */
  private stops = 0;
  private readonly store: SnapshotStore;
  private readonly logger: Logger;
  private readonly rebuildTracer: RebuildTracer | undefined;
  private readonly snapshotEveryEvents: number;
  private readonly snapshotEveryMs: number;

  constructor(private readonly options: EngineOptions) {
    this.store = checkOptions(options).store;
    this.logger = options.logger ?? { warn: (m) => console.warn(m), info: () => undefined };
    this.rebuildTracer = RebuildTracer.create(options.telemetry);
    this.snapshotEveryEvents = positive('snapshotEveryEvents', options.snapshotEveryEvents ?? 10_000);
    this.snapshotEveryMs = positive('snapshotEveryMs', options.snapshotEveryMs ?? 5_000);
    positive('batchSize', options.batchSize ?? 4096);
  }

  /**
   * An engine over a journal (the writer, or a reader in another process),
   * with its snapshots in `<journal>/projections/` unless a store is given.
   * Whether projection cursors are kept is the registry's to say (see
   * EngineOptions.registry).
   */
  static forJournal(journal: Journal | JournalReader, options: JournalEngineOptions = {}): ProjectionEngine {
    const { io, store, ...rest } = options;
    return new ProjectionEngine({ ...rest, log: journal, store: store ?? new FileSnapshotStore(journal.dir, io) });
  }

  /**
   * An engine over an event store's log (for `eventProjection` and
   * `perStreamProjection`), with its snapshots in `<store dir>/projections/`
   * unless a store is given. Pass `registry: ConsumerRegistry.forStore(store)`
   * to see the projections' cursors (and lag) among the store's consumers.
   */
  static forStore(eventStore: LocalEventStore, options: JournalEngineOptions = {}): ProjectionEngine {
    const s = eventStore as Partial<LocalEventStore> | null;
    if (typeof s !== 'object' || s === null || typeof s.dir !== 'string' || typeof s.log?.readMany !== 'function') {
      throw new InvalidProjectionArgumentError('ProjectionEngine.forStore takes an event store (openEventStore); over a journal, use ProjectionEngine.forJournal');
    }
    const { io, store, ...rest } = options;
    return new ProjectionEngine({ ...rest, log: eventStore.log, store: store ?? new FileSnapshotStore(eventStore.dir, io) });
  }

  register(projection: AnyProjection): this {
    validateProjection(projection);
    validateInitialState(projection);
    if (this.runtimes.has(projection.name)) throw new InvalidProjectionArgumentError(`projection "${projection.name}" is already registered`);
    // a projection's cursor is there to hold back cleanup: only where cleanup runs (a reader's registry repairs nothing)
    const registry = this.options.registry?.retention ? this.options.registry : undefined;
    if (registry) registerProjectionCursor(registry, projection.name, this.logger);
    else if (this.options.registry) reportUnrepairedProjectionCursor(this.options.registry, projection.name, this.logger);
    this.runtimes.set(
      projection.name,
      new ProjectionRuntime(projection, {
        log: this.options.log,
        registry,
        store: this.store,
        batchSize: this.options.batchSize ?? 4096,
        logger: this.logger,
      }),
    );
    return this;
  }

  get names(): string[] {
    return [...this.runtimes.keys()];
  }

  /**
   * Resumes or rebuilds every projection, catches up to the head, then follows it.
   * Refused (ProjectionBusyError) while a start is in progress, a projection
   * follows or a `rebuild()` runs: stop() first. A projection that failed has
   * no loop: once its cause is fixed, start() again opens it anew from its
   * snapshot (stop() first if others still follow).
   */
  async start(options: StartOptions = {}): Promise<StartReport[]> {
    checkKeys('start', options, START_OPTION_KEYS);
    if (this.starting || this.loops.size > 0) throw new ProjectionBusyError('the projection engine is already started; stop() first');
    const rebuilding = [...this.runtimes.values()].find((rt) => rt.status === 'rebuilding');
    if (rebuilding) throw new ProjectionBusyError(`projection "${rebuilding.name}" is rebuilding; wait for its rebuild() to finish`);
    const abort = new AbortController();
    const signal = options.signal ? AbortSignal.any([abort.signal, options.signal]) : abort.signal;
    // set before openAll runs: its first steps (and an onProgress calling stop()) are synchronous
    let ended!: () => void;
    this.starting = { abort, done: new Promise<void>((resolve) => (ended = resolve)) };
    try {
      return await this.openAll(options, signal);
    } finally {
      this.starting = undefined;
      ended();
    }
  }

  private async openAll(options: StartOptions, signal: AbortSignal): Promise<StartReport[]> {
    const reports: StartReport[] = [];
    for (const rt of this.runtimes.values()) {
      reports.push(signal.aborted ? abortedReport(rt, 'before it was opened', performance.now()) : await this.open(rt, options.rebuild?.includes(rt.name) === true, signal));
    }
    if (options.follow !== false && !signal.aborted) {
      for (const rt of this.runtimes.values()) if (rt.status !== 'failed') this.follow(rt, options.signal);
    }
    return reports;
  }

  /** Rebuilds one projection from offset 0 now (pausing its follow loop meanwhile). */
  async rebuild(name: string, options: { onProgress?: (p: RebuildProgress) => void; signal?: AbortSignal } = {}): Promise<RebuildReport> {
    checkKeys('rebuild', options, REBUILD_OPTION_KEYS);
    const rt = this.runtime(name);
    // two rebuilds, or a rebuild and a start, would each resume a loop: one stop() could not reach
    if (this.starting) throw new ProjectionBusyError(`the projection engine is starting; rebuild "${name}" after start() returns`);
    if (rt.status === 'rebuilding') throw new ProjectionBusyError(`projection "${name}" is already rebuilding`);
    const loop = this.loops.get(name);
    const stops = this.stops;
    const started = performance.now();
    const previous = rt.status === 'running' ? 'stopped' : rt.status;
    // set before the first await, so that a second rebuild() or a start() meanwhile is refused
    rt.status = 'rebuilding';
    try {
      await this.pause(name);
      const finished = await this.traced(rt, 'requested', () => rt.rebuild(options.onProgress ?? this.options.onProgress, options.signal));
      rt.status = finished ? 'stopped' : previous;
      if (finished) rt.error = undefined;
    } catch (err) {
      rt.status = previous;
      throw err;
    } finally {
      if (loop && stops === this.stops && !this.loops.has(name)) this.follow(rt, loop.signal);
    }
    const durationMs = performance.now() - started;
    return { name, reason: 'requested', events: rt.events, checkpoint: rt.checkpoint, durationMs, rate: rt.events / Math.max(durationMs / 1000, 1e-9) };
  }

  /** A rebuild, in a span when an SDK records them. */
  private traced(rt: ProjectionRuntime, reason: RebuildReason, rebuild: () => Promise<boolean>): Promise<boolean> {
    if (!this.rebuildTracer) return rebuild();
    return this.rebuildTracer.trace({ name: rt.name, version: rt.def.version }, reason, rebuild, () => ({ events: rt.events, checkpoint: rt.checkpoint }));
  }

  /** The current state of a projection and the checkpoint it is true at. */
  query<S = unknown>(name: string): { state: S; checkpoint: number; version: number; status: ProjectionInfo['status'] } {
    const rt = this.runtime(name);
    return { state: rt.state as S, checkpoint: rt.checkpoint, version: rt.def.version, status: rt.status };
  }

  list(): ProjectionInfo[] {
    const head = this.options.log.head;
    return [...this.runtimes.values()].map((rt) => ({
      name: rt.name,
      version: rt.def.version,
      checkpoint: rt.checkpoint,
      head,
      events: rt.events,
      status: rt.status,
      ...(rt.error ? { error: rt.error } : {}),
      ...(rt.lastSnapshotAt ? { lastSnapshotAt: rt.lastSnapshotAt } : {}),
    }));
  }

  /** Resolves when every projection has applied every record below `offset` (default: the head). */
  async waitFor(offset = this.options.log.head): Promise<void> {
    while ([...this.runtimes.values()].some((rt) => rt.status === 'running' && rt.checkpoint < offset)) {
      await sleep(2);
    }
  }

  /**
   * Stops following (a start in progress is aborted and waited for) and saves
   * a snapshot of every projection that moved. A projection whose snapshot
   * fails is marked failed and the others are still saved; then the first
   * such error is thrown.
   */
  async stop(): Promise<void> {
    this.stops++;
    const starting = this.starting;
    if (starting) {
      starting.abort.abort();
      await starting.done;
    }
    for (const name of [...this.loops.keys()]) await this.pause(name);
    let first: unknown;
    for (const rt of this.runtimes.values()) {
      // a rebuild() in progress saves its own result
      if (rt.opened && rt.status !== 'failed' && rt.status !== 'rebuilding' && rt.checkpoint !== rt.savedCheckpoint) {
        try {
          await rt.saveSnapshot();
        } catch (err) {
          this.fail(rt, err, 'could not save its snapshot on stop');
          first ??= err;
          continue;
        }
      }
      if (rt.status === 'running') rt.status = 'stopped';
    }
    if (first !== undefined) throw first;
  }

  private async open(rt: ProjectionRuntime, forceRebuild: boolean, signal: AbortSignal): Promise<StartReport> {
    const started = performance.now();
    // opened anew from its snapshot: a failure before (state half-applied) is left behind
    rt.status = 'stopped';
    rt.error = undefined;
    try {
      const attempt = forceRebuild ? ({ resumed: false, reason: 'requested', detail: 'rebuild requested' } as const) : rt.tryResume();
      if (attempt.resumed) {
        const eventsBefore = rt.events;
        while (!signal.aborted) {
          if (rt.catchUpBatch() > 0) await new Promise((r) => setImmediate(r));
          // a log read over the network (a NatsLog) may still be fetching what lies below its head
          else if (rt.checkpoint < this.options.log.head) await this.options.log.waitBeyond(rt.checkpoint, signal);
          else break;
        }
        await this.maybeSnapshot(rt, true);
        if (signal.aborted) return abortedReport(rt, `while catching up (resumed, saved at checkpoint ${rt.checkpoint})`, started);
        return { name: rt.name, mode: 'resumed', checkpoint: rt.checkpoint, events: rt.events - eventsBefore, durationMs: performance.now() - started };
      }
      const message = `projection "${rt.name}": rebuilding from offset 0: ${attempt.reason} (${attempt.detail})`;
      // a first build is routine; any other reason means state was not trusted
      if (attempt.reason === 'no-snapshot') this.logger.info?.(message);
      else this.logger.warn(message);
      rt.status = 'rebuilding';
      const finished = await this.traced(rt, attempt.reason, () => rt.rebuild(this.options.onProgress, signal));
      rt.status = 'stopped';
      if (!finished) return { ...abortedReport(rt, `during its rebuild from offset 0 (${attempt.reason}): nothing was saved, the next start rebuilds`, started), reason: attempt.reason };
      return {
        name: rt.name,
        mode: 'rebuilt',
        reason: attempt.reason,
        detail: attempt.detail,
        checkpoint: rt.checkpoint,
        events: rt.events,
        durationMs: performance.now() - started,
      };
    } catch (err) {
      rt.status = 'failed';
      rt.error = err instanceof Error ? err.message : String(err);
      this.logger.warn(`projection "${rt.name}" failed to start: ${rt.error}`);
      // a typed error (or an errno one) fails this projection's start; one without a code is a bug
      if (!codeOf(err)) throw err;
      return { name: rt.name, mode: 'failed', detail: rt.error, checkpoint: rt.checkpoint, events: 0, durationMs: performance.now() - started, error: err as Error };
    }
  }

  private follow(rt: ProjectionRuntime, signal: AbortSignal | undefined): void {
    const abort = new AbortController();
    const stop = AbortSignal.any(signal ? [abort.signal, signal] : [abort.signal]);
    rt.status = 'running';
    let sinceSnapshot = 0;
    let lastSnapshot = performance.now();
    // in the map before the loop's first turn, which may end it at once
    const loop: FollowLoop = { abort, signal, done: Promise.resolve() };
    this.loops.set(rt.name, loop);
    loop.done = (async () => {
      try {
        while (!stop.aborted) {
          const n = rt.catchUpBatch();
          sinceSnapshot += n;
          const due = sinceSnapshot >= this.snapshotEveryEvents || performance.now() - lastSnapshot >= this.snapshotEveryMs;
          if (due && rt.checkpoint !== rt.savedCheckpoint) {
            await this.snapshotOrRetry(rt);
            sinceSnapshot = 0;
            lastSnapshot = performance.now();
          }
          if (n === 0) {
            // quiet log: wait for a record, or wake up to snapshot what is pending;
            // one controller ends both waits so that neither leaves a listener behind
            const wake = new AbortController();
            const onStop = (): void => wake.abort();
            stop.addEventListener('abort', onStop, { once: true });
            await Promise.race([this.options.log.waitBeyond(rt.checkpoint, wake.signal), sleep(this.snapshotEveryMs, wake.signal)]);
            wake.abort();
            stop.removeEventListener('abort', onStop);
          } else {
            await new Promise((r) => setImmediate(r));
          }
        }
        if (rt.status === 'running') rt.status = 'stopped';
      } catch (err) {
        // the journal closed under it: an ordinary shutdown in that order, not a failure
        if (isEpistemeError(err, WalErrorCodes.Closed)) {
          rt.status = 'stopped';
          this.logger.info?.(`projection "${rt.name}" stopped following: the journal was closed`);
        } else this.fail(rt, err, 'stopped');
      } finally {
        if (this.loops.get(rt.name) === loop) this.loops.delete(rt.name);
      }
    })();
  }

  private fail(rt: ProjectionRuntime, err: unknown, what: string): void {
    rt.status = 'failed';
    rt.error = err instanceof Error ? err.message : String(err);
    this.logger.warn(`projection "${rt.name}" ${what}: ${rt.error}`);
  }

  private async pause(name: string): Promise<void> {
    const loop = this.loops.get(name);
    if (!loop) return;
    this.loops.delete(name);
    loop.abort.abort();
    await loop.done;
    const rt = this.runtimes.get(name)!;
    if (rt.status === 'running') rt.status = 'stopped';
  }

  /**
   * A following projection's snapshot. When writing it fails on I/O (a full
   * disk, EIO), the state in memory is still good and only its copy on disk
   * is missing: the projection keeps following, its cursor stays at the last
   * snapshot (so it keeps holding cleanup), `list()` shows the error, and the
   * next due snapshot tries again. Other failures (the journal failed, a bug)
   * stop it as before.
   */
  private async snapshotOrRetry(rt: ProjectionRuntime): Promise<void> {
    try {
      await rt.saveSnapshot();
      if (rt.error !== undefined) this.logger.info?.(`projection "${rt.name}": snapshot saved again at ${rt.checkpoint}`);
      rt.error = undefined;
    } catch (err) {
      if (!isEpistemeError(err, WalErrorCodes.Io) && !isEpistemeError(err, ConsumerErrorCodes.Io)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      if (rt.error === undefined) this.logger.warn(`projection "${rt.name}": snapshot failed, still following, retrying every ${this.snapshotEveryMs} ms: ${message}`);
      rt.error = `snapshot failed (retrying): ${message}`;
    }
  }

  private async maybeSnapshot(rt: ProjectionRuntime, force: boolean): Promise<void> {
    if (force && rt.checkpoint !== rt.savedCheckpoint) await rt.saveSnapshot();
  }

  private runtime(name: string): ProjectionRuntime {
    const rt = this.runtimes.get(name);
    if (!rt) throw new ProjectionNotFoundError(name);
    return rt;
  }
}

function abortedReport(rt: ProjectionRuntime, when: string, started: number): StartReport {
  const detail = `start aborted ${when}`;
  return { name: rt.name, mode: 'aborted', detail, checkpoint: rt.checkpoint, events: 0, durationMs: performance.now() - started };
}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidProjectionArgumentError(`${name} must be a positive integer, not ${String(v)}`);
  return v;
}

/** Refuses options without a log or a store (the engine took a journal, and a default store, before). */
function checkOptions(options: EngineOptions): EngineOptions {
  const o = options as Partial<EngineOptions> | null;
  if (typeof o !== 'object' || o === null || typeof o.log?.readMany !== 'function') {
    throw new InvalidProjectionArgumentError('a ProjectionEngine takes { log, store, registry? }; over a journal, use ProjectionEngine.forJournal(journal)');
  }
  if (typeof o.store?.load !== 'function' || typeof o.store.save !== 'function') {
    throw new InvalidProjectionArgumentError('a ProjectionEngine needs a snapshot store (FileSnapshotStore, InMemorySnapshotStore, ...)');
  }
  // a misspelt `snapshotEvryEvents` would be its default, silently
  checkKeys('ProjectionEngine', o, ENGINE_OPTION_KEYS);
  return options;
}

/** Refuses (PROJECTION_INVALID_ARGUMENT) options with a key `call` does not take. */
function checkKeys(call: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null) return;
  const unknown = unknownOptionKey(options, allowed);
  if (unknown !== undefined) throw new InvalidProjectionArgumentError(unknownOptionMessage(call, unknown, allowed));
}

const START_KEYS: Record<keyof StartOptions, true> = { follow: true, signal: true, rebuild: true };
const START_OPTION_KEYS: readonly string[] = Object.keys(START_KEYS);
const REBUILD_OPTION_KEYS: readonly string[] = ['onProgress', 'signal'];

/** The keys of EngineOptions, each listed once (the compiler checks); forJournal and forStore take `io` and make `log` and `store`. */
const ENGINE_KEYS: Record<keyof EngineOptions, true> = {
  log: true,
  registry: true,
  store: true,
  snapshotEveryEvents: true,
  snapshotEveryMs: true,
  batchSize: true,
  onProgress: true,
  logger: true,
  telemetry: true,
};
const ENGINE_OPTION_KEYS: readonly string[] = Object.keys(ENGINE_KEYS);
