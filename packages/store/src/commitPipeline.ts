import type { Appended, Journal } from '@episteme/wal';
import { CommitAbortedError } from './errors.js';

const ignore = (): void => undefined;

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
}

interface Queued extends PendingWrite {
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

/** One stream's writes not yet in the index, and the stream as they will leave it. */
interface Lane {
  /** The stream's version once every queued and in-flight write is in. */
  version: number;
  deleted: boolean;
  inFlight: boolean;
  queue: Queued[];
}

/**
 * Reserves stream versions at call time and hands writes to the journal,
 * one wave per stream at a time. Why one at a time: a journal append that
 * fails (a write rolled back) takes its versions with it, and a later
 * commit of the same stream already in the journal would then leave a gap.
 * So a stream's next wave waits in its lane until the one in flight
 * settles; when that one fails, the waiting writes (reserved on top of it)
 * fail too, with STORE_COMMIT_ABORTED, and nothing of theirs was written.
 * Streams do not wait for each other, and a wave of several commits of one
 * stream is one `appendBatch` (one write, never split): group commit still
 * batches everything in flight.
 */
export class CommitPipeline {
  private readonly lanes = new Map<string, Lane>();
  /** Ids of writes not yet settled, with the write's promise. */
  private readonly pendingIds = new Map<string, Promise<unknown>>();
  private waves = 0;
  private idleWaiters: Array<() => void> = [];
  /** While above 0, new waves wait in their lanes (see pause). */
  private paused = 0;

  constructor(
    private readonly journal: Journal,
    /**
     * Called in log order per stream when a write is in the log, before its
     * promise resolves (the index learns of it first); returns what the
     * write's promise resolves to (one promise per write, not a chain).
     */
    private readonly onWritten: (write: PendingWrite, at: Appended) => unknown,
  ) {}

  /** The stream as a new write sees it, after every pending one; undefined when nothing is pending. */
  laneView(stream: string): { version: number; deleted: boolean } | undefined {
    return this.lanes.get(stream);
  }

  /** A promise that settles with the pending write carrying `id`, if there is one. */
  pendingId(id: string): Promise<unknown> | undefined {
    // made on demand: a retry racing its original is rare, an append is not
    return this.pendingIds.get(id)?.then(ignore, ignore);
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

  resume(): void {
    if (--this.paused > 0) return;
    for (const [stream, lane] of this.lanes) this.submit(stream, lane);
  }

  /** Resolves once no wave is in flight. */
  whenIdle(): Promise<void> {
    if (this.waves === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Queues a write whose versions were checked against `laneView` (or the
   * index) in this same synchronous step; `after` is the stream as it will
   * be once the write is in.
   */
  enqueue(write: PendingWrite, after: { version: number; deleted: boolean }): Promise<unknown> {
    let lane = this.lanes.get(write.stream);
    if (lane === undefined) {
      lane = { version: 0, deleted: false, inFlight: false, queue: [] };
      this.lanes.set(write.stream, lane);
    }
    lane.version = after.version;
    lane.deleted = after.deleted;
    // the write itself becomes the queue entry (no copy): the caller made it for this call only
    const queued = write as Queued;
    const promise = new Promise<unknown>((resolve, reject) => {
      queued.resolve = resolve;
      queued.reject = reject;
    });
    for (const id of write.ids) this.pendingIds.set(id, promise);
    lane.queue.push(queued);
    this.submit(write.stream, lane);
    return promise;
  }

  private submit(stream: string, lane: Lane): void {
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
          this.waveWritten(stream, lane);
        },
        (err: unknown) => this.waveFailed(stream, lane, wave, err),
      );
    } else {
      this.journal.appendBatch(wave.map((w) => w.payload)).then(
        (at) => {
          for (let i = 0; i < wave.length; i++) this.settle(wave[i]!, at[i]!);
          this.waveWritten(stream, lane);
        },
        (err: unknown) => this.waveFailed(stream, lane, wave, err),
      );
    }
  }

  private settle(w: Queued, at: Appended): void {
    const result = this.onWritten(w, at);
    this.forget(w);
    w.resolve(result);
  }

  private waveWritten(stream: string, lane: Lane): void {
    lane.inFlight = false;
    if (lane.queue.length > 0) this.submit(stream, lane);
    else this.lanes.delete(stream);
    this.waveDone();
  }

  private waveFailed(stream: string, lane: Lane, wave: Queued[], err: unknown): void {
    for (const w of wave) {
      this.forget(w);
      w.reject(err);
    }
    for (const w of lane.queue) {
      this.forget(w);
      w.reject(new CommitAbortedError(stream, err));
    }
    // the index holds the stream as the log has it: new writes start from there
    this.lanes.delete(stream);
    this.waveDone();
  }

  private forget(w: PendingWrite): void {
    for (const id of w.ids) this.pendingIds.delete(id);
  }

  private waveDone(): void {
    if (--this.waves > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
