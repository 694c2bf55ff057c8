import { FailedStateError, InvalidArgumentError, RecordTooLargeError, WriteFailedError } from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import type { Appended } from '../log/appended.js';
import { updateRecoveryPoint, type LastRecord } from '../recovery/recoveryPoint.js';
import { sleep } from '../shared/sleep.js';
import { ActiveSegment, preallocationOf } from './activeSegment.js';
import { encodeBatch } from './encodeBatch.js';
import type { Durability, ResolvedOptions } from './options.js';
import type { InFlight, PendingAppend, QueueEntry, SyncBarrier } from './writerQueue.js';
import type { SegmentManager } from './segmentManager.js';
import { SyncFailedError } from './syncFailedError.js';
import { Writeback } from './writeback.js';

/** Longest stretch the writer keeps the event loop busy with back-to-back batches. */
const YIELD_EVERY_MS = 10;

/**
 * Most group-commit batches written and syncing at once. Two lets the next
 * batch be encoded and written while the disk flushes the previous one (the
 * pipelined group commit of MySQL's binlog), so the CPU work of a batch and
 * the sync of the one before it overlap.
 */
const MAX_IN_FLIGHT = 2;
/** A batch of at least twice this many records, started with no sync in flight, is split in two (see takeBatch). */
const SPLIT_RECORDS = 16;
/**
 * Synced bytes of the active segment between two synced prefixes recorded in
 * the recovery point: an open after a crash scans at most about this much of
 * the last segment (plus what was not synced), for one atomic file replace
 * per this many bytes written. Mutable for tests only (they lower it).
 */
export const syncedPrefixEvery = { bytes: 8 * 1024 * 1024 };

/**
 * The single writer of a journal: assigns offsets in call order, writes
 * queued appends with one write call per batch, syncs as the durability level
 * says, rotates segments, and publishes the new head only once a batch is as
 * durable as promised (readers never see what a crash could take back).
 *
 * Batching: without group commit each append is its own write+sync (in order);
 * with it, the appends queued while a sync runs are written as the next batch
 * right away, and its sync starts beside the running one (at most
 * MAX_IN_FLIGHT at once); the batches are published strictly in order, each
 * after its own sync. `appendBatch` is always one write and one sync.
 * Appends that wait for no sync (`none`) are synced in the background every
 * few MiB (Writeback).
 *
 * Every fsync but the background ones is started by the drain loop. A failed
 * one, background included, puts the journal in the failed state and rejects
 * every batch not yet published (docs/journal.md: never retried and forgotten).
 */
export class JournalWriter {
  private readonly queue: QueueEntry[] = [];
  private draining: Promise<void> | undefined;
  private failure: unknown;
  private scratch = new Uint8Array(64 * 1024);
  private lastYield = performance.now();
  /** Bytes written but not yet synced (durability `none`). */
  private unsynced = false;
  /**
   * Batches written whose sync is still running (group commit only), oldest
   * first. They complete in this order: a batch is published only after every
   * batch before it, so the head readers see never passes an unsynced record.
   */
  private readonly inFlight: InFlight[] = [];
  /** End of the bytes written: where the next batch starts (the published head trails it while syncs run). */
  private written: number;
  /** Wakes a drain that waits for a sync when a new append is queued. */
  private wake: (() => void) | undefined;
  /** File position of the synced prefix of the active segment last recorded in the recovery point. */
  private prefixRecorded: number;
  /** Background syncs of what `none` appends wrote. */
  private readonly writeback: Writeback;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly segments: SegmentManager,
    private active: ActiveSegment,
    /** Head as published to readers. */
    private head: number,
    /** Called with each new head; `synced` when the batches up to it were synced. */
    private readonly publish: (head: number, synced: boolean) => void,
  ) {
    this.written = head;
    this.prefixRecorded = active.writePos; // Journal.open records the prefix it opens with
    this.writeback = new Writeback(
      options.writebackBytes,
      (segment, end, crc, last) => {
        if (segment === this.active && this.failure === undefined) this.syncedUpTo(end, crc, last);
      },
      (err) => this.fail(err, []),
    );
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Queues one payload; see `enqueue`. */
  appendOne(payload: Uint8Array, durability: Durability): Promise<Appended> {
    return this.enqueue([payload], durability, true) as Promise<Appended>;
  }

  /** Queues payloads written back to back, with one write; see `enqueue`. */
  appendBatch(payloads: Uint8Array[], durability: Durability): Promise<Appended[]> {
    return this.enqueue(payloads, durability, false) as Promise<Appended[]>;
  }

  /**
   * Queues payloads and resolves to where each went, once published. They
   * are read when the batch is written (later, under group commit), so a
   * caller must not modify them until the promise settles.
   */
  private enqueue(payloads: Uint8Array[], durability: Durability, single: boolean): Promise<Appended | Appended[]> {
    if (this.failure !== undefined) return Promise.reject(new FailedStateError(this.failure));
    let bytes = 0;
    for (const p of payloads) {
      if (!(p instanceof Uint8Array)) return Promise.reject(new InvalidArgumentError('a payload must be a Uint8Array (or Buffer)'));
      if (p.length > this.options.maxPayloadBytes) return Promise.reject(new RecordTooLargeError(p.length, this.options.maxPayloadBytes));
      bytes += RECORD_OVERHEAD + p.length;
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'append', payloads, bytes, durability, single, result: undefined, resolve, reject });
      this.wakeDrain();
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
      this.wakeDrain();
      this.draining ??= this.drain();
    });
  }

  /** Waits for the queue to empty. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Final sync, trims preallocated space, closes the active segment, and
   * marks it cleanly closed in the recovery point (the next open skips its
   * scan). A journal that opens without verifying sealed segments
   * (`scanSealedOnOpen: false`) vouches for none, so it leaves no mark.
   */
  async close(): Promise<void> {
    await this.idle();
    await this.writeback.settled();
    if (this.failure === undefined) {
      const crc = this.active.contentCrc();
      try {
        this.active.seal();
      } catch (err) {
        this.active.close();
        throw new FailedStateError(err);
      }
      const { io, dir, maxPayloadBytes, scanSealedOnOpen } = this.options;
      if (scanSealedOnOpen !== false) {
        updateRecoveryPoint(io, dir, this.segments.sealedSizes(), maxPayloadBytes, { base: this.active.base, size: this.active.writePos, crc, last: this.active.lastRecord() });
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
      while (this.queue.length > 0 || this.inFlight.length > 0) {
        // Appends that wait on no I/O (durability none, or a sync on this
        // thread) resolve through microtasks only: a caller appending in a
        // loop would starve timers, I/O callbacks and signal handlers. Give
        // the event loop a turn at least every YIELD_EVERY_MS.
        if (performance.now() - this.lastYield >= YIELD_EVERY_MS) {
          await new Promise((r) => setImmediate(r));
          this.lastYield = performance.now();
        }
        const next = this.queue[0];
        const gathering = next !== undefined && next.kind === 'append' && this.gatheringBehindSync(next);
        if (next === undefined || this.inFlight.length >= MAX_IN_FLIGHT || next.kind === 'sync' || gathering) {
          // a sync barrier waits for every batch before it; an append waits
          // for room in the pipeline; an empty queue (or a batch still
          // gathering) for the oldest sync or for a new append, whichever
          // comes first
          if (this.inFlight.length > 0) {
            await this.completeOldest(next === undefined || gathering);
            continue;
          }
          if (next === undefined) break;
        }
        if (next!.kind === 'sync') {
          this.queue.shift();
          await this.syncBarrier(next as SyncBarrier);
          continue;
        }
        const delay = this.options.groupCommit?.maxDelayMs ?? 0;
        if (delay > 0 && !this.batchIsFull()) await sleep(delay);
        const batch = this.takeBatch();
        await this.writeBatch(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private wakeDrain(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * Publishes the oldest batch in flight once its sync is done. With
   * `orNewAppend`, returns early (publishing nothing) when an append is
   * queued first: it can be written while the sync runs.
   */
  private async completeOldest(orNewAppend: boolean): Promise<void> {
    const oldest = this.inFlight[0]!;
    if (oldest.synced !== undefined) {
      const outcome = orNewAppend
        ? await Promise.race([oldest.synced, new Promise<'woken'>((r) => (this.wake = () => r('woken')))])
        : await oldest.synced;
      this.wake = undefined;
      if (outcome === 'woken') return;
      if (outcome !== undefined) {
        this.fail(outcome.err, []);
        return;
      }
    }
    this.inFlight.shift();
    this.head = oldest.end;
    this.publish(oldest.end, oldest.synced !== undefined);
    if (oldest.synced !== undefined) this.syncedUpTo(oldest.end, oldest.crc, oldest.last);
    for (const e of oldest.batch) e.resolve(e.result!);
  }

  /** Publishes every batch in flight (before a rotation seals the file they sync). */
  private async completeAll(): Promise<void> {
    while (this.inFlight.length > 0 && this.failure === undefined) await this.completeOldest(false);
  }

  /**
   * Whether the queued appends should wait for the sync in flight instead of
   * starting a second one beside it: they do while they hold fewer than half
   * the records of that sync (and fewer than a full batch). Concurrent
   * fdatasyncs of one file are served one after the other, so a sync costs
   * about the same whatever it carries: a tiny batch started beside a large
   * one would cost a whole sync, and with callers that await each append the
   * pipeline would stay lopsided (62 and 2 records per sync, measured at 64
   * appenders) instead of two halves. Waiting costs the batch nothing it
   * would not have waited anyway: the sync in flight completes first.
   */
  private gatheringBehindSync(first: PendingAppend): boolean {
    const g = this.options.groupCommit;
    if (g === undefined || this.inFlight.length !== 1 || this.inFlight[0]!.synced === undefined) return false;
    const want = Math.min(Math.ceil(this.inFlight[0]!.records / 2), g.maxBatchRecords);
    let n = 0;
    for (const e of this.queue) {
      if (e.kind === 'sync') return false; // a barrier waits for everything anyway
      n += e.payloads.length;
      if (n >= want) return false;
    }
    return first.payloads.length < want;
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
   *
   * With group commit and no sync in flight, a large batch is cut in two: the
   * second half is written while the first one syncs, and from then on the
   * appenders of each half refill the pipeline while the other half syncs
   * (callers that await each append would otherwise all wait on one sync,
   * and the CPU work of the next batch could never overlap it).
   */
  private takeBatch(): PendingAppend[] {
    const first = this.queue.shift() as PendingAppend;
    const batch = [first];
    const g = this.options.groupCommit;
    const gather = g !== undefined || (first.durability === 'none' && this.options.durability === 'none');
    if (!gather) return batch;
    let maxRecords = g?.maxBatchRecords ?? Number.POSITIVE_INFINITY;
    const maxBytes = g?.maxBatchBytes ?? 8 * 1024 * 1024;
    if (g !== undefined && this.inFlight.length === 0) {
      const queued = this.queuedRecords(first);
      if (queued >= 2 * SPLIT_RECORDS) maxRecords = Math.min(maxRecords, Math.ceil(queued / 2));
    }
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

  /** Records of `first` and the appends queued behind it, up to the next sync barrier. */
  private queuedRecords(first: PendingAppend): number {
    let n = first.payloads.length;
    for (const e of this.queue) {
      if (e.kind === 'sync') break;
      n += e.payloads.length;
    }
    return n;
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    if (this.failure !== undefined) {
      for (const e of batch) e.reject(new FailedStateError(this.failure));
      return;
    }
    let bytes = 0;
    for (const e of batch) bytes += e.bytes;
    if (!this.active.isEmpty && this.active.sizeWith(bytes) > this.options.maxSegmentBytes) {
      // the syncs in flight use the descriptor that sealing closes
      await this.completeAll();
      await this.writeback.settled();
      if (this.failure !== undefined) {
        for (const e of batch) e.reject(new FailedStateError(this.failure));
        return;
      }
      this.publish(this.head, true); // published before the new segment appears, not lagging into the old one
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
    const pos = encodeBatch(batch, buf, this.written);
    const offset = this.written + pos;
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
    this.written = offset;
    this.unsynced = true;
    this.options.telemetry?.batchWritten(batch.length === 1 ? batch[0]!.payloads.length : batch.reduce((n, e) => n + e.payloads.length, 0), bytes);
    const durable = batch.some((e) => e.durability === 'immediate');
    if (!durable) this.writeback.wrote(this.active, bytes, offset, this.active.contentCrc(), this.active.lastRecord());
    if (this.options.groupCommit) {
      // the sync runs off the event loop; the drain goes on with the next batch
      const synced = durable ? this.syncActive().then(() => undefined, (err: unknown) => ({ err })) : undefined;
      let records = 0;
      for (const e of batch) records += e.payloads.length;
      this.inFlight.push({ batch, end: offset, synced, crc: this.active.contentCrc(), last: this.active.lastRecord(), records });
      return;
    }
    if (durable) {
      try {
        await this.syncActive();
      } catch (err) {
        this.fail(err, batch);
        return;
      }
      this.syncedUpTo(offset, this.active.contentCrc(), this.active.lastRecord());
    }
    this.head = offset;
    this.publish(offset, durable);
    for (const e of batch) e.resolve(e.result!);
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
    this.syncedUpTo(this.written, this.active.contentCrc(), this.active.lastRecord());
    barrier.resolve();
  }

  /**
   * The active segment is synced up to global offset `end`, where its CRC32C
   * is `crc` and its last record `last`: every syncedPrefixEvery.bytes, record
   * that as its synced prefix, so that an open after a crash scans only what
   * follows (see SyncedPrefix), and a reader's open checks `last` alone.
   * Best effort, like every recovery point write: a failure costs the next
   * open its shortcuts, never a record.
   */
  private syncedUpTo(end: number, crc: number, last: LastRecord | undefined): void {
    const { io, dir, maxPayloadBytes, scanSealedOnOpen } = this.options;
    const size = HEADER_SIZE + end - this.active.base;
    if (scanSealedOnOpen !== 'unverified' || size - this.prefixRecorded < syncedPrefixEvery.bytes) return;
    this.prefixRecorded = size;
    updateRecoveryPoint(io, dir, this.segments.sealedSizes(), maxPayloadBytes, undefined, { base: this.active.base, size, crc, last });
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
    this.writeback.synced();
    const started = this.options.telemetry && performance.now();
    try {
      if (this.options.groupCommit) await this.active.syncAsync();
      else this.active.sync();
      if (started) this.options.telemetry!.synced(performance.now() - started);
    } catch (err) {
      this.unsynced = true;
      throw err;
    }
  }

  /** Starts the next segment at the head (the active one was sealed). */
  private startSegment(): void {
    this.unsynced = false;
    this.active = ActiveSegment.create(this.options.io, this.options.dir, this.written, preallocationOf(this.options));
    this.prefixRecorded = HEADER_SIZE;
    this.segments.add(this.written);
    // the segment just sealed was written, synced and trimmed here: vouch for it
    if (this.options.scanSealedOnOpen === 'unverified') updateRecoveryPoint(this.options.io, this.options.dir, this.segments.sealedSizes(), this.options.maxPayloadBytes);
  }

  private reopenActive(): void {
    const { base, writePos } = this.active;
    // the CRC carries over: nothing to read back
    const known = { size: writePos, crc: this.active.contentCrc() };
    this.active = ActiveSegment.open(this.options.io, this.options.dir, base, writePos, preallocationOf(this.options), known, this.active.lastRecord()?.position);
  }

  /** A sync or rollback failed, or the tail check at open (Journal): nothing more may be written until reopen. */
  fail(err: unknown, batch: QueueEntry[]): void {
    this.failure = err;
    const error = new FailedStateError(err);
    for (const e of batch) e.reject(error);
    for (const f of this.inFlight.splice(0)) for (const e of f.batch) e.reject(error);
    for (const e of this.queue.splice(0)) e.reject(error);
  }

  private bufferFor(bytes: number): Uint8Array {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    return this.scratch;
  }
}

