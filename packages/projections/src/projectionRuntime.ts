import type { ConsumerRegistry, Logger } from '@episteme/consumers';
import { isEpistemeError, WalErrorCodes, type LogReader, type LogRecord } from '@episteme/wal';
import { consumerNameOf, jsonCodec, type AnyProjection, type EventCodec } from './definition.js';
import { ApplyFailedError, CorruptSnapshotError, HistoryDeletedError, StateNotSerializableError } from './errors.js';
import { moveProjectionCursor } from './projectionCursor.js';
import type { ProjectionInfo, RebuildProgress, RebuildReason } from './reports.js';
import type { SnapshotStore } from './stores.js';

const TRANSIENT = { transient: true } as const;

export interface RuntimeDeps {
  log: LogReader;
  /** The writer's registry, where the projection's cursor holds back cleanup; undefined elsewhere. */
  registry: ConsumerRegistry | undefined;
  store: SnapshotStore;
  batchSize: number;
  /** Takes the warning about a cursor file rewritten after damage. */
  logger: Logger;
}

/**
 * One projection's live state: the state, the checkpoint it is true at, and
 * the moves between them (resume from a snapshot, rebuild from 0, apply a
 * batch, save a snapshot). The engine schedules; this holds the invariants.
 */
export class ProjectionRuntime {
  state: unknown;
  checkpoint = 0;
  events = 0;
  status: ProjectionInfo['status'] = 'stopped';
  error: string | undefined;
  lastSnapshotAt: string | undefined;
  savedCheckpoint = -1;
  /** Resumed or rebuilt: only then is the state worth a snapshot. */
  opened = false;
  private readonly codec: EventCodec<unknown>;

  constructor(readonly def: AnyProjection, private readonly deps: RuntimeDeps) {
    this.codec = def.codec ?? jsonCodec;
    this.state = def.initialState();
  }

  get name(): string {
    return this.def.name;
  }

  /** Resumes from the snapshot when it can be trusted, else says why not. */
  tryResume(): { resumed: true } | { resumed: false; reason: RebuildReason; detail: string } {
    const { log, store } = this.deps;
    let snapshot;
    try {
      snapshot = store.load(this.name);
    } catch (err) {
      if (err instanceof CorruptSnapshotError) return { resumed: false, reason: 'snapshot-damaged', detail: err.message };
      throw err;
    }
    if (!snapshot) return { resumed: false, reason: 'no-snapshot', detail: 'no snapshot yet' };
    if (snapshot.version !== this.def.version) {
      return { resumed: false, reason: 'version-changed', detail: `snapshot is version ${snapshot.version}, the projection is version ${this.def.version}` };
    }
    const cut = log.truncatedAt;
    if (cut !== undefined && cut < snapshot.checkpoint) {
      return {
        resumed: false,
        reason: 'log-cut-below-checkpoint',
        detail: `recovery cut the log at ${cut}, below the checkpoint ${snapshot.checkpoint}: records the state includes are gone`,
      };
    }
    if (snapshot.checkpoint > log.head) {
      return { resumed: false, reason: 'checkpoint-beyond-head', detail: `checkpoint ${snapshot.checkpoint} is beyond the head ${log.head}` };
    }
    if (snapshot.checkpoint !== log.head && !isBoundary(log, snapshot.checkpoint)) {
      return { resumed: false, reason: 'checkpoint-not-a-boundary', detail: `checkpoint ${snapshot.checkpoint} is not a record boundary (the log was cut and rewritten)` };
    }
    this.state = this.def.deserialize ? this.def.deserialize(snapshot.state) : snapshot.state;
    this.checkpoint = snapshot.checkpoint;
    this.savedCheckpoint = snapshot.checkpoint;
    this.events = snapshot.events;
    this.lastSnapshotAt = snapshot.savedAt;
    this.opened = true;
    return { resumed: true };
  }

  /**
   * Rebuilds from offset 0 (where every log starts) into a fresh state and
   * saves it as one new snapshot at the end: an interrupted rebuild leaves
   * the old snapshot. Refuses (HistoryDeletedError) when cleanup deleted the
   * start of the log.
   */
  async rebuild(onProgress: ((p: RebuildProgress) => void) | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const { log, registry } = this.deps;
    if (log.earliest > 0) throw new HistoryDeletedError(this.name, log.earliest, this.savedCheckpoint, log.missingHistory);
    // hold the whole log while reading it, so cleanup cannot delete under us
    registry?.reset(consumerNameOf(this.name), 0);
    const started = performance.now();
    // only for progress reports: counting walks every record header of the
    // log once more (about 2% of a rebuild of small events), so not when nobody listens
    const total = onProgress ? log.countRecords(0) : 0;
    let state = this.def.initialState();
    let pos = 0;
    let done = 0;
    let lastReport = started;
    const report = (): void => {
      const elapsed = (performance.now() - started) / 1000;
      onProgress?.({ name: this.name, done, total, rate: elapsed > 0 ? done / elapsed : 0, checkpoint: pos });
    };
    report();
    for (;;) {
      if (signal?.aborted) return false;
      // transient: each batch is applied before the next read, and apply and decode may keep no bytes (projections.md)
      const batch = log.readMany(pos, this.deps.batchSize, TRANSIENT);
      if (batch.length === 0) {
        // a log read over the network (a NatsLog) may still be fetching what lies below its head
        if (pos >= log.head) break;
        await log.waitBeyond(pos, signal);
        continue;
      }
      state = this.applyAll(state, batch);
      pos = batch[batch.length - 1]!.next;
      done += batch.length;
      if (onProgress && performance.now() - lastReport >= 200) {
        lastReport = performance.now();
        report();
      }
      // let the app breathe (and an abort arrive) between batches
      await new Promise((r) => setImmediate(r));
    }
    this.state = state;
    this.checkpoint = pos;
    this.events = done;
    this.opened = true;
    await this.saveSnapshot();
    report();
    return true;
  }

  /** Applies the records after the checkpoint that exist now; returns how many. */
  catchUpBatch(): number {
    const batch = this.deps.log.readMany(this.checkpoint, this.deps.batchSize, TRANSIENT);
    if (batch.length === 0) return 0;
    this.state = this.applyAll(this.state, batch);
    this.checkpoint = batch[batch.length - 1]!.next;
    this.events += batch.length;
    return batch.length;
  }

  /**
   * Persists state and checkpoint together, then lets the consumer cursor
   * follow. The log is made durable first (the journal's writer syncs, a
   * no-op when every append was `immediate`): a snapshot past the synced
   * head would, after a power loss took the unsynced tail, be a checkpoint
   * beyond the recovered head, and the rebuild that follows needs history
   * that cleanup, let go by this snapshot's cursor, may have deleted for good.
   */
  async saveSnapshot(): Promise<void> {
    const { checkpoint, state, events } = this;
    await durableUnlessClosed(this.deps.log);
    const savedAt = new Date().toISOString();
    let data: unknown;
    try {
      data = this.def.serialize ? this.def.serialize(state) : state;
    } catch (err) {
      throw new StateNotSerializableError(this.name, err);
    }
    // the store's encoding of a state that is not JSON throws StateNotSerializableError
    this.deps.store.save({ name: this.name, version: this.def.version, checkpoint, state: data, events, savedAt });
    this.savedCheckpoint = checkpoint;
    this.lastSnapshotAt = savedAt;
    // snapshot first, cursor second: the cursor never passes a durable checkpoint
    if (this.deps.registry) moveProjectionCursor(this.deps.registry, this.name, checkpoint, this.deps.logger);
  }

  private applyAll(state: unknown, batch: LogRecord[]): unknown {
    const { apply } = this.def;
    const codec = this.codec;
    for (const rec of batch) {
      try {
        // the record is the meta (offset, next, blake3): no object per event
        state = apply(state, codec.decode(rec.payload), rec);
      } catch (err) {
        throw new ApplyFailedError(this.name, rec.offset, err);
      }
    }
    return state;
  }
}

/** Whether `offset` starts a record (by the log's boundary walk, which a payload holding a record cannot fool). */
function isBoundary(log: LogReader, offset: number): boolean {
  try {
    return log.boundaryAtOrBefore(offset) === offset;
  } catch (err) {
    if (isEpistemeError(err, WalErrorCodes.NotRecordBoundary) || isEpistemeError(err, WalErrorCodes.OffsetOutOfRange)) return false;
    throw err;
  }
}

/**
 * Makes the log durable before a snapshot. A reader in another process
 * resolves at once (its writer's durability is its own), and a closed
 * writer synced everything when it closed.
 */
async function durableUnlessClosed(log: LogReader): Promise<void> {
  try {
    await log.makeDurable();
  } catch (err) {
    if (!isEpistemeError(err, WalErrorCodes.Closed)) throw err;
  }
}
