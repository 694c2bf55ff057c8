import type { Appended, Journal } from '@episteme/wal';
import { CommitAbortedError } from './errors.js';
import { PendingSlots } from './pendingSlots.js';
import type { AppendResult, DeleteStreamResult } from './types.js';

/** A commit or tombstone whose versions are reserved, on its way to the journal. */
export interface PendingWrite {
  kind: 'commit' | 'tombstone';
  stream: string;
  payload: Uint8Array;
  /** Commit: position of its first event. Tombstone: 0. */
  firstPosition: number;
  /** Events in the commit (0 for a tombstone). */
  count: number;
  /** The event ids the caller gave (generated ones cannot be retried, so they are not tracked). */
  ids: readonly string[];
  /** Learns how the write went, with `slot`. */
  done: WriteDone;
  slot: number;
  /** Retries of these ids waiting for this write to settle (see pendingId); made in full here, so the object keeps one shape. */
  waiters: Array<() => void> | undefined;
  /** The stream's slot in the stream index when the write was reserved by it (`enqueueAt`), else -1. */
  indexSlot: number;
}

/**
 * Who learns how a write went: `slot` is what the write was queued with
 * (one object serves all the writes of an `appendEach`, each its own slot,
 * without a promise per write). `writtenAt` when the write is in the log
 * (its result is made only by a caller that wants one: `resultOf`),
 * `written` for a result known without a write (a retry's).
 */
export interface WriteDone {
  writtenAt(slot: number, write: PendingWrite, at: Appended): void;
  written(slot: number, result: AppendResult | DeleteStreamResult): void;
  failed(slot: number, err: unknown): void;
}

/** What the caller of a write in the log gets: `appendToStream`'s or `deleteStream`'s result. */
export function resultOf(w: PendingWrite, at: Appended): AppendResult | DeleteStreamResult {
  if (w.kind === 'tombstone') return { globalPosition: at.offset };
  const last = w.firstPosition + w.count - 1;
  return { nextExpectedVersion: last, globalPosition: at.offset + w.count - 1, createdStream: w.firstPosition === 1 };
}

/** One stream's writes not yet in the index, and the stream as they will leave it. */
interface Lane {
  stream: string;
  /** The stream's version once every queued and in-flight write is in. */
  version: number;
  deleted: boolean;
  inFlight: boolean;
  queue: PendingWrite[];
  /** The gathered wave this lane's writes go into, while one is being gathered. */
  gathered: GatheredWave | undefined;
}

/**
 * Writes of many streams gathered to go to the journal as one wave (one
 * `appendBatch`: one write and one sync), made by `gather` and sent by
 * `submitGathered`.
 */
export class GatheredWave {
  /** @internal */
  readonly writes: PendingWrite[] = [];
  /** @internal the lanes taken by the wave, each once */
  readonly lanes: Lane[] = [];
  /** @internal writes reserved by their stream's slot (no lane): the wave is found by its number while in flight */
  bySlot = 0;

  /** @internal */
  constructor(readonly id: number) {}

  get size(): number {
    return this.writes.length;
  }
}

/** Settles one promise: what a single appendToStream or deleteStream waits on. */
export class OneWrite implements WriteDone {
  readonly promise: Promise<unknown>;
  private resolve!: (result: unknown) => void;
  private reject!: (err: unknown) => void;

  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  writtenAt(_slot: number, w: PendingWrite, at: Appended): void {
    this.resolve(resultOf(w, at));
  }

  written(_slot: number, result: unknown): void {
    this.resolve(result);
  }

  failed(_slot: number, err: unknown): void {
    this.reject(err);
  }
}

/**
 * Reserves stream versions at call time and hands writes to the journal,
 * one wave per stream at a time. Why one at a time: a journal append that
 * fails (a write rolled back) takes its versions with it, and a later
 * commit of the same stream already in the journal would then leave a gap.
 * So a stream's next wave waits in its lane until the one in flight
 * settles; when that one fails, the waiting writes (reserved on top of it)
 * fail too, with STORE_COMMIT_ABORTED, and nothing of theirs was written.
 * Streams do not wait for each other, and a wave is one `appendBatch` (one
 * write, never split) of one stream's writes, or of many streams' (a
 * gathered wave: `appendEach`, and what a pause held back); group commit
 * still batches everything in flight.
 */
export class CommitPipeline {
  private readonly lanes = new Map<string, Lane>();
  /** The writes not yet settled that carry caller-given ids, by id. */
  private readonly pendingIds = new Map<string, PendingWrite>();
  private waves = 0;
  private idleWaiters: Array<() => void> = [];
  /** While above 0, new waves wait in their lanes (see pause). */
  private paused = 0;
  /** Streams with writes reserved by slot (`enqueueAt`), not yet settled. */
  readonly pendingSlots = new PendingSlots();
  /** The gathered waves in flight that carry writes reserved by slot, by number: a later write of such a stream waits for its wave. */
  private readonly flying = new Map<number, GatheredWave>();
  private lastWave = 0;

  constructor(
    private readonly journal: Journal,
    /**
     * Called in log order per stream when a write is in the log, before its
     * caller learns of it (the index learns of it first).
     */
    private readonly onWritten: (write: PendingWrite, at: Appended) => void,
  ) {}

  /** The stream as a new write sees it, after every pending one; undefined when nothing is pending. */
  laneView(stream: string): { version: number; deleted: boolean } | undefined {
    // an import's writes are reserved by slot: no lane, and no lookup of a name in an empty Map
    return this.lanes.size === 0 ? undefined : this.lanes.get(stream);
  }

  /** A promise that settles when the pending write carrying `id` does, if there is one. */
  pendingId(id: string): Promise<void> | undefined {
    const w = this.pendingIds.get(id);
    // made on demand: a retry racing its original is rare, an append is not
    return w === undefined ? undefined : new Promise<void>((resolve) => (w.waiters ??= []).push(resolve));
  }

  get idle(): boolean {
    return this.waves === 0;
  }

  /**
   * Holds new waves in their lanes until `resume`: with `whenIdle`, this
   * gives a moment where every record in the log is in the index, even
   * under a load that never pauses by itself (an index checkpoint needs one).
   * Appends are still checked and reserved meanwhile.
   */
  pause(): void {
    this.paused++;
  }

  /** Sends what the pause held back, every stream's in one gathered wave. */
  resume(): void {
    if (--this.paused > 0) return;
    const wave = this.gather();
    for (const lane of this.lanes.values()) {
      if (lane.inFlight || lane.queue.length === 0) continue;
      for (const w of lane.queue) wave.writes.push(w);
      lane.queue = [];
      this.take(lane, wave);
    }
    this.submitGathered(wave);
  }

  /** Resolves once no wave is in flight. */
  whenIdle(): Promise<void> {
    if (this.waves === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A wave to gather writes of many streams into (`enqueue` with it, then `submitGathered`). */
  gather(): GatheredWave {
    this.lastWave = this.lastWave === 0x7fffffff ? 1 : this.lastWave + 1;
    return new GatheredWave(this.lastWave);
  }

  /**
   * `enqueue` of a write reserved against its stream's slot in the index
   * (`write.indexSlot`; the stream had no lane, and its version came from
   * `pendingSlots` or the index): it joins `wave` without a lane when its
   * stream has nothing pending but in that same wave, and takes the lane
   * way otherwise (a pause, or a write of it in a wave in flight).
   */
  enqueueAt(write: PendingWrite, version: number, wave: GatheredWave): void {
    const slot = write.indexSlot;
    const busy = this.pendingSlots.waveOf(slot);
    if (this.paused === 0 && (busy === 0 || busy === wave.id)) {
      this.pendingSlots.take(slot, wave.id, version);
      wave.writes.push(write);
      wave.bySlot++;
      return;
    }
    this.enqueue(write, version, false, wave, busy);
  }

  /**
   * Queues a write whose versions were checked against `laneView` (or the
   * index) in this same synchronous step; `version` and `deleted` are the stream as it will
   * be once the write is in; its `done` learns how it went. With a
   * gathered wave, a write whose stream has nothing in flight or queued
   * joins it (and so do later writes of that stream to the same wave);
   * otherwise it waits in its lane, as any write does. `busyWave`: the
   * wave carrying writes of the stream reserved by slot (`pendingSlots`),
   * or 0; the stream's new lane waits for it as for a wave of its own.
   */
  enqueue(write: PendingWrite, version: number, deleted: boolean, wave?: GatheredWave, busyWave = 0): void {
    let lane = this.lanes.get(write.stream);
    if (lane === undefined) {
      lane = { stream: write.stream, version: 0, deleted: false, inFlight: false, queue: [], gathered: undefined };
      this.lanes.set(write.stream, lane);
      if (busyWave !== 0) this.behind(lane, busyWave, wave);
    }
    lane.version = version;
    lane.deleted = deleted;
    // the write itself is the queue entry (no copy): the caller made it for this call only
    for (let i = 0; i < write.ids.length; i++) this.pendingIds.set(write.ids[i]!, write);
    if (wave !== undefined && (lane.gathered === wave || (!lane.inFlight && lane.queue.length === 0 && this.paused === 0))) {
      wave.writes.push(write);
      if (lane.gathered !== wave) this.take(lane, wave);
      return;
    }
    lane.queue.push(write);
    this.submit(lane);
  }

  /** Sends a gathered wave to the journal: one call for all its writes (nothing when it is empty). */
  submitGathered(wave: GatheredWave): void {
    const { writes, lanes } = wave;
    if (writes.length === 0) return;
    for (const lane of lanes) lane.gathered = undefined;
    this.waves++;
    if (wave.bySlot > 0) this.flying.set(wave.id, wave);
    const payloads = new Array<Uint8Array>(writes.length);
    for (let i = 0; i < writes.length; i++) payloads[i] = writes[i]!.payload;
    this.journal.appendBatch(payloads).then(
      (at) => {
        if (wave.bySlot > 0) this.flying.delete(wave.id);
        for (let i = 0; i < writes.length; i++) this.settle(writes[i]!, at[i]!);
        // read now: a lane may have joined the wave behind one of its writes
        for (const lane of lanes) this.laneWritten(lane);
        this.waveDone();
      },
      (err: unknown) => {
        if (wave.bySlot > 0) this.flying.delete(wave.id);
        for (const w of writes) this.fail(w, err);
        for (const lane of lanes) this.laneFailed(lane, err);
        this.waveDone();
      },
    );
  }

  /**
   * A new lane of a stream whose writes reserved by slot are in wave
   * `busyWave`: in flight with that wave (its writes go out once it has
   * settled, and fail with it), or, when that is the wave being gathered,
   * gathered into it.
   */
  private behind(lane: Lane, busyWave: number, gathering: GatheredWave | undefined): void {
    const flying = this.flying.get(busyWave);
    if (flying !== undefined) {
      lane.inFlight = true;
      flying.lanes.push(lane);
    } else if (gathering !== undefined && gathering.id === busyWave) {
      this.take(lane, gathering);
    } else {
      throw new Error(`internal: a stream's writes are in wave ${busyWave}, which is neither in flight nor being gathered`);
    }
  }

  /** The lane's writes go into `wave`: the lane is in flight from now on. */
  private take(lane: Lane, wave: GatheredWave): void {
    lane.inFlight = true;
    lane.gathered = wave;
    wave.lanes.push(lane);
  }

  private submit(lane: Lane): void {
    if (this.paused > 0 || lane.inFlight || lane.queue.length === 0) return;
    const wave = lane.queue;
    lane.queue = [];
    lane.inFlight = true;
    this.waves++;
    // the journal call is made now, synchronously: log order is call order
    if (wave.length === 1) {
      const w = wave[0]!;
      this.journal.append(w.payload).then(
        (at) => {
          this.settle(w, at);
          this.laneWritten(lane);
          this.waveDone();
        },
        (err: unknown) => this.waveFailed(lane, wave, err),
      );
    } else {
      this.journal.appendBatch(wave.map((w) => w.payload)).then(
        (at) => {
          for (let i = 0; i < wave.length; i++) this.settle(wave[i]!, at[i]!);
          this.laneWritten(lane);
          this.waveDone();
        },
        (err: unknown) => this.waveFailed(lane, wave, err),
      );
    }
  }

  private settle(w: PendingWrite, at: Appended): void {
    this.onWritten(w, at);
    if (w.indexSlot >= 0) this.pendingSlots.release(w.indexSlot);
    this.forget(w);
    w.done.writtenAt(w.slot, w, at);
  }

  private fail(w: PendingWrite, err: unknown): void {
    if (w.indexSlot >= 0) this.pendingSlots.release(w.indexSlot);
    this.forget(w);
    w.done.failed(w.slot, err);
  }

  private laneWritten(lane: Lane): void {
    lane.inFlight = false;
    if (lane.queue.length > 0) this.submit(lane);
    else this.lanes.delete(lane.stream);
  }

  private waveFailed(lane: Lane, wave: PendingWrite[], err: unknown): void {
    for (const w of wave) this.fail(w, err);
    this.laneFailed(lane, err);
    this.waveDone();
  }

  /** The lane's wave failed: what waits on top of it fails too, and the index holds the stream as the log has it. */
  private laneFailed(lane: Lane, err: unknown): void {
    for (const w of lane.queue) this.fail(w, new CommitAbortedError(lane.stream, err));
    this.lanes.delete(lane.stream);
  }

  private forget(w: PendingWrite): void {
    for (let i = 0; i < w.ids.length; i++) if (this.pendingIds.get(w.ids[i]!) === w) this.pendingIds.delete(w.ids[i]!);
    const waiters = w.waiters;
    if (waiters !== undefined) for (const wake of waiters) wake();
  }

  private waveDone(): void {
    if (--this.waves > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
