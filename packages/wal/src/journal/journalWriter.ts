import { FailedStateError, InvalidArgumentError, RecordTooLargeError, WriteFailedError } from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { encodeRecordInto } from '../format/record.js';
import { updateRecoveryPoint } from '../recovery/recoveryPoint.js';
import { ActiveSegment } from './activeSegment.js';
import type { Durability, ResolvedOptions } from './options.js';
import type { SegmentManager } from './segmentManager.js';
import { SyncFailedError } from './syncFailedError.js';

/** Longest stretch the writer keeps the event loop busy with back-to-back batches. */
const YIELD_EVERY_MS = 10;

/** One append or appendBatch call waiting for its write (and sync). */
interface PendingAppend {
  kind: 'append';
  payloads: Uint8Array[];
  bytes: number;
  durability: Durability;
  resolve: (offsets: number[]) => void;
  reject: (err: unknown) => void;
}

/**
 * A sync() call: it waits in the queue like an append, so that its fsync
 * runs between batches, never while a rotation or close() seals the
 * descriptor it would sync.
 */
interface SyncBarrier {
  kind: 'sync';
  resolve: () => void;
  reject: (err: unknown) => void;
}

type QueueEntry = PendingAppend | SyncBarrier;

/**
 * The single writer of a journal: assigns offsets in call order, writes
 * queued appends with one write call per batch, syncs as the durability level
 * says, rotates segments, and publishes the new head only once a batch is as
 * durable as promised (readers never see what a crash could take back).
 *
 * Batching: without group commit each append is its own write+sync (in order);
 * with it, every append queued while the previous write+sync was in flight
 * goes into the next one. `appendBatch` is always one write and one sync.
 *
 * Every fsync happens inside the drain loop, one at a time: a failed one puts
 * the journal in the failed state (DESIGN.md: never retried and forgotten).
 */
export class JournalWriter {
  private readonly queue: QueueEntry[] = [];
  private draining: Promise<void> | undefined;
  private failure: unknown;
  private scratch = new Uint8Array(64 * 1024);
  private lastYield = performance.now();
  /** Bytes written but not yet synced (durability `none`). */
  private unsynced = false;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly segments: SegmentManager,
    private active: ActiveSegment,
    /** Head as published to readers. */
    private head: number,
    private readonly publish: (head: number) => void,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Queues payloads; they are read when the batch is written (later, under
   * group commit), so a caller must not modify them until the promise settles.
   */
  append(payloads: Uint8Array[], durability: Durability): Promise<number[]> {
    if (this.failure !== undefined) return Promise.reject(new FailedStateError(this.failure));
    let bytes = 0;
    for (const p of payloads) {
      if (!(p instanceof Uint8Array)) return Promise.reject(new InvalidArgumentError('a payload must be a Uint8Array (or Buffer)'));
      if (p.length > this.options.maxPayloadBytes) return Promise.reject(new RecordTooLargeError(p.length, this.options.maxPayloadBytes));
      bytes += RECORD_OVERHEAD + p.length;
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'append', payloads, bytes, durability, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /**
   * Resolves once everything appended so far is written and synced. Queued
   * synchronously, so that a close() called right after waits for it.
   */
  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new FailedStateError(this.failure));
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'sync', resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Waits for the queue to empty. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Final sync, trims preallocated space, closes the active segment. */
  async close(): Promise<void> {
    await this.idle();
    if (this.failure === undefined) {
      try {
        this.active.seal();
      } catch (err) {
        this.active.close();
        throw new FailedStateError(err);
      }
    } else {
      this.active.close();
    }
  }

  private async drain(): Promise<void> {
    // Start on the next microtask, so that appends made in the same tick as
    // the first one (Promise.all, a loop without await) share its write.
    await undefined;
    try {
      while (this.queue.length > 0) {
        // Appends that wait on no I/O (durability none, or a sync on this
        // thread) resolve through microtasks only: a caller appending in a
        // loop would starve timers, I/O callbacks and signal handlers. Give
        // the event loop a turn at least every YIELD_EVERY_MS.
        if (performance.now() - this.lastYield >= YIELD_EVERY_MS) {
          await new Promise((r) => setImmediate(r));
          this.lastYield = performance.now();
        }
        const next = this.queue[0]!;
        if (next.kind === 'sync') {
          this.queue.shift();
          await this.syncBarrier(next);
          continue;
        }
        const delay = this.options.groupCommit?.maxDelayMs ?? 0;
        if (delay > 0 && !this.batchIsFull()) await new Promise((r) => setTimeout(r, delay));
        const batch = this.takeBatch();
        await this.writeBatch(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private batchIsFull(): boolean {
    const g = this.options.groupCommit!;
    let records = 0;
    let bytes = 0;
    for (const e of this.queue) {
      if (e.kind === 'sync') break;
      records += e.payloads.length;
      bytes += e.bytes;
    }
    return records >= g.maxBatchRecords || bytes >= g.maxBatchBytes;
  }

  /**
   * The next batch: one append without group commit (for `immediate`), else as
   * many queued appends as the limits allow. A batch never spans segments:
   * it stops where the next append would overflow the active segment.
   */
  private takeBatch(): PendingAppend[] {
    const first = this.queue.shift() as PendingAppend;
    const batch = [first];
    const g = this.options.groupCommit;
    const gather = g !== undefined || (first.durability === 'none' && this.options.durability === 'none');
    if (!gather) return batch;
    const maxRecords = g?.maxBatchRecords ?? Number.POSITIVE_INFINITY;
    const maxBytes = g?.maxBatchBytes ?? 8 * 1024 * 1024;
    let records = first.payloads.length;
    let bytes = first.bytes;
    // Room left in the segment this batch will go to: the active one, or a
    // fresh one when even the first append does not fit (writeBatch rotates).
    const fits = this.active.isEmpty || this.active.sizeWith(first.bytes) <= this.options.maxSegmentBytes;
    const room = fits ? this.options.maxSegmentBytes - this.active.sizeWith(0) : this.options.maxSegmentBytes - HEADER_SIZE;
    while (this.queue.length > 0 && this.queue[0]!.kind === 'append') {
      const next = this.queue[0]!;
      if (records + next.payloads.length > maxRecords || bytes + next.bytes > maxBytes) break;
      if (bytes + next.bytes > room) break;
      batch.push(this.queue.shift() as PendingAppend);
      records += next.payloads.length;
      bytes += next.bytes;
    }
    return batch;
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    if (this.failure !== undefined) {
      for (const e of batch) e.reject(new FailedStateError(this.failure));
      return;
    }
    let bytes = 0;
    for (const e of batch) bytes += e.bytes;
    if (!this.active.isEmpty && this.active.sizeWith(bytes) > this.options.maxSegmentBytes) {
      try {
        this.active.seal();
      } catch (err) {
        this.fail(err, batch); // a failed sync of the old segment: nothing can be trusted
        return;
      }
      try {
        this.startSegment();
      } catch (err) {
        if (err instanceof SyncFailedError) {
          this.fail(err, batch);
          return;
        }
        // no room for a new segment (ENOSPC...), and its file was removed
        // durably: keep appending to the old one once the cause is gone; it
        // was sealed, so reopen it at its end
        try {
          this.reopenActive();
        } catch (reopenErr) {
          this.fail(reopenErr, batch);
          return;
        }
        for (const e of batch) e.reject(new WriteFailedError(err));
        return;
      }
    }
    const buf = this.bufferFor(bytes);
    const offsets: number[][] = [];
    let pos = 0;
    let offset = this.head;
    for (const e of batch) {
      const mine: number[] = [];
      for (const p of e.payloads) {
        mine.push(offset);
        const next = encodeRecordInto(p, buf, pos);
        offset += next - pos;
        pos = next;
      }
      offsets.push(mine);
    }
    try {
      this.active.write(buf, pos);
    } catch (err) {
      if (err instanceof SyncFailedError) {
        this.fail(err, batch);
      } else {
        for (const e of batch) e.reject(new WriteFailedError(err));
      }
      return;
    }
    this.unsynced = true;
    if (batch.some((e) => e.durability === 'immediate')) {
      try {
        await this.syncActive();
      } catch (err) {
        this.fail(err, batch);
        return;
      }
    }
    this.head = offset;
    this.publish(offset);
    batch.forEach((e, i) => e.resolve(offsets[i]!));
  }

  private async syncBarrier(barrier: SyncBarrier): Promise<void> {
    if (this.failure !== undefined) return barrier.reject(new FailedStateError(this.failure));
    if (!this.unsynced) return barrier.resolve();
    try {
      await this.syncActive();
    } catch (err) {
      this.fail(err, [barrier]);
      return;
    }
    barrier.resolve();
  }

  /**
   * Without group commit each append waits for its own sync and nothing can
   * join it, so the sync runs on this thread: a trip through libuv's thread
   * pool cost 1.1-2x the blocking call here (bench: append). With group
   * commit the sync runs off the event loop, which is where the next batch
   * gathers.
   */
  private async syncActive(): Promise<void> {
    this.unsynced = false;
    try {
      if (this.options.groupCommit) await this.active.syncAsync();
      else this.active.sync();
    } catch (err) {
      this.unsynced = true;
      throw err;
    }
  }

  /** Starts the next segment at the head (the active one was sealed). */
  private startSegment(): void {
    this.unsynced = false;
    this.active = ActiveSegment.create(this.options.io, this.options.dir, this.head, this.options.preallocateBytes);
    this.segments.add(this.head);
    // the segment just sealed was written, synced and trimmed here: vouch for it
    if (this.options.scanSealedOnOpen === 'unverified') updateRecoveryPoint(this.options.io, this.options.dir, this.segments.sealedSizes(), this.options.maxPayloadBytes);
  }

  private reopenActive(): void {
    const base = this.active.base;
    this.active = ActiveSegment.open(this.options.io, this.options.dir, base, this.active.writePos, this.options.preallocateBytes);
  }

  /** A sync or rollback failed: nothing more may be written until reopen. */
  private fail(err: unknown, batch: QueueEntry[]): void {
    this.failure = err;
    const error = new FailedStateError(err);
    for (const e of batch) e.reject(error);
    for (const e of this.queue.splice(0)) e.reject(error);
  }

  private bufferFor(bytes: number): Uint8Array {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    return this.scratch;
  }
}
