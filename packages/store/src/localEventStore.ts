import { AppendTracer } from './telemetry.js';
import type { Appended, Journal, LogReader } from '@episteme/wal';
import { readRecordsAt } from '@episteme/wal/internals';
import { checkAppend, checkEach, EachOutcomes, optionsOf, type CheckedCommit, type CommitOutcome, type StreamCommit } from './appendEach.js';
import { checkEncoded, EncodedOutcomesOf, type EncodedOutcomes } from './appendEncoded.js';
import { encodeCommit, encodeTombstone } from './commit/encodeCommit.js';
import { expectedOf, type EncodedCommits } from './commit/encodedCommits.js';
import { OFF_COUNT, OFF_FIRST_POSITION, OFF_TIMESTAMP, readU32, writeU64 } from './commit/layout.js';
import { CommitPipeline, OneWrite, type GatheredWave, type PendingWrite, type WriteDone } from './commitPipeline.js';
import { createEventDecoder, type EventDecoder, type EventFilter } from './eventDecoder.js';
import { StoreInvalidArgumentError, StoreClosedError, StreamDeletedError, StreamNotFoundError, type StoreWarning } from './errors.js';
import { assertExpectedVersion, validateExpectedVersion } from './expectedVersion.js';
import type { IdempotencyWindow } from './idempotencyWindow.js';
import { encodeCheckpoint, writeCheckpointFile } from './index/checkpoint.js';
import type { IndexSource } from './index/loadIndex.js';
import { DELETED, type StreamIndex } from './index/streamIndex.js';
import type { ResolvedStoreOptions } from './options.js';
import { checkOptionKeys } from './optionKeys.js';
import { AllEvents } from './readAll.js';
import { decodeRecordInto, knownStream } from './recordedEvents.js';
import { checkRetry } from './retries.js';
import { describeValue } from './describeValue.js';
import { validateStreamName } from './streamName.js';
import type { RecoveryReport } from '@episteme/wal';
import type {
  AggregateStreamOptions,
  AggregateStreamResult,
  AppendOptions,
  AppendResult,
  DeleteStreamOptions,
  DeleteStreamResult,
  Event,
  EventStore,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
} from './types.js';

/** What the open found and did to bring the stream index up to date. */
export interface IndexOpenStats {
  source: IndexSource;
  /** Log records read at open to fold the index (0 after a clean close). */
  recordsReplayed: number;
}

/** The ids of a write that has none the caller gave. */
const NO_IDS: readonly string[] = Object.freeze([]);

function positiveIntOr(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new StoreInvalidArgumentError(`${name} must be a non-negative integer, not ${describeValue(value)}`);
  }
  return value;
}

/**
 * The event store on one local journal (made by `openEventStore`). Each
 * public method checks its arguments and the store's state; the writes go
 * through the CommitPipeline, which reserves versions in call order.
 */
export class LocalEventStore implements EventStore {
  private readonly pipeline: CommitPipeline;
  private closing: Promise<void> | undefined;
  private commitsSinceCheckpoint = 0;
  /** The log head the last checkpoint file written by this store describes (-1: none yet). */
  private checkpointedHead = -1;
  /** The periodic checkpoint being written, if one is. */
  private checkpointing: Promise<void> | undefined;

  private readonly tracer: AppendTracer | undefined;
  /** Set by writeVersionOf: see there. */
  private seenBusyWave = 0;

  /** @internal made by openEventStore */
  constructor(
    private readonly journal: Journal,
    private readonly index: StreamIndex,
    private readonly window: IdempotencyWindow,
    private readonly options: ResolvedStoreOptions,
    /** How the open brought the index up to date. */
    readonly openStats: IndexOpenStats,
    /** Warnings of the open (also given to `onWarning`). */
    readonly warnings: readonly StoreWarning[],
  ) {
    this.pipeline = new CommitPipeline(journal, (w, at) => this.written(w, at));
    this.tracer = AppendTracer.create(options.journal.telemetry);
  }

  /** The directory of the journal underneath. */
  get dir(): string {
    return this.options.dir;
  }

  /**
   * The log underneath, to read only: what a consumer registry or a
   * projection engine of this store reads (cursors are positions in it).
   * Appends go through the store; segment cleanup under a store is not
   * supported (the stream index points into every segment).
   */
  get log(): LogReader {
    return this.journal;
  }

  /** What the journal's recovery found and did when the store opened it (an app reports the cuts a crash left). */
  get recovery(): RecoveryReport {
    return this.journal.recovery;
  }

  /**
   * A decoder of this log's records into events, with the store's upcasters
   * and the given filter: what consumers and projections of the store use.
   */
  decoder(filter?: EventFilter): EventDecoder {
    return createEventDecoder({ upcasters: this.options.upcasters, filter });
  }

  /** The largest commit the journal takes, encoded (what an EncodedCommitsBuilder for this store checks). */
  get maxPayloadBytes(): number {
    return this.options.maxPayloadBytes;
  }

  /** Number of streams the index knows (deleted ones included). */
  get streamCount(): number {
    return this.index.size;
  }

  appendToStream<E extends Event>(stream: string, events: readonly E[], options?: AppendOptions): Promise<AppendResult> {
    // not an async function: one promise per append (the write's own), and
    // everything up to the enqueue runs now, so checks and reservations follow call order
    try {
      if (this.tracer) return this.tracer.trace(stream, Array.isArray(events) ? events.length : 0, () => this.append(stream, events, options));
      return this.append(stream, events, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private append(stream: string, events: readonly Event[], options: AppendOptions | undefined): Promise<AppendResult> {
    this.checkOpen();
    const commit = checkAppend(stream, events, options, this.options.maxPayloadBytes);
    const done = new OneWrite();
    this.decide(commit, Date.now(), done, 0, undefined);
    return done.promise as Promise<AppendResult>;
  }

  /**
   * Appends many commits, each on its own: NOT one transaction. Each commit
   * is checked, decided and written exactly as `appendToStream` would do it
   * if called for each in array order in one synchronous step (each sees
   * the streams as the commits before it leave them, a retry gets its
   * original result), and resolves to one outcome per commit, in the same
   * order, as `Promise.allSettled` of those calls would: a conflict refuses
   * only its own commit. What the call saves is the work between commits:
   * the commits of every stream with nothing in flight go to the journal
   * together, in one `appendBatch` (one write and one sync). After a crash,
   * any commit not yet acknowledged may be in the log or not, each whole or
   * not at all. A bad argument anywhere (not an array, a bad stream name,
   * event, option or expected version, a commit too large) rejects the
   * whole call with its typed error before anything is reserved or written.
   * docs/streams.md, "Many commits at once".
   */
  appendEach<E extends Event>(commits: readonly StreamCommit<E>[]): Promise<CommitOutcome[]> {
    if (this.tracer) {
      const count = Array.isArray(commits) ? commits.length : 0;
      return this.tracer.traceBatch('appendEach', count, () => this.appendEachUntraced(commits), (outcomes) => outcomes.filter((o) => o.status === 'rejected').length);
    }
    return this.appendEachUntraced(commits);
  }

  private appendEachUntraced<E extends Event>(commits: readonly StreamCommit<E>[]): Promise<CommitOutcome[]> {
    try {
      this.checkOpen();
      const checked = checkEach(commits, this.options.maxPayloadBytes);
      const outcomes = new EachOutcomes(checked.length);
      const wave = this.pipeline.gather();
      const now = Date.now();
      for (let i = 0; i < checked.length; i++) {
        try {
          this.decide(checked[i]!, now, outcomes, i, wave);
        } catch (err) {
          outcomes.failed(i, err);
        }
      }
      this.pipeline.submitGathered(wave);
      return outcomes.promise;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Appends commits encoded ahead by an `EncodedCommitsBuilder` (on this
   * thread or another): each decided on its own exactly as `appendEach`
   * decides a commit without ids (its own expected version and outcome; not
   * a transaction), the commits of every free stream written with one
   * journal `appendBatch`, and no promise or result object per commit.
   * The batch is checked first (checkEncoded: a bad one rejects the whole
   * call, nothing reserved); its bytes are then the append's (each commit's
   * stream position and time are written into them). docs/streams.md,
   * "Commits encoded ahead".
   */
  appendEncoded(batch: EncodedCommits): Promise<EncodedOutcomes> {
    if (this.tracer) {
      const ends = (batch as Partial<EncodedCommits> | undefined)?.ends;
      const count = ends !== undefined && typeof ends.length === 'number' ? ends.length : 0;
      return this.tracer.traceBatch('appendEncoded', count, () => this.appendEncodedUntraced(batch), (outcomes) => outcomes.refused.size);
    }
    return this.appendEncodedUntraced(batch);
  }

  private appendEncodedUntraced(batch: EncodedCommits): Promise<EncodedOutcomes> {
    try {
      this.checkOpen();
      checkEncoded(batch, this.options.maxPayloadBytes);
      const { bytes, ends, streams, expected } = batch;
      const outcomes = new EncodedOutcomesOf(ends.length);
      const wave = this.pipeline.gather();
      const now = Date.now();
      let start = 0;
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i]!;
        try {
          this.decideEncoded(bytes, start, end, streams[i]!, expected[i]!, now, outcomes, i, wave);
        } catch (err) {
          outcomes.failed(i, err);
        }
        start = end;
      }
      this.pipeline.submitGathered(wave);
      return outcomes.promise;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `decide` for a commit of an encoded batch (checked, no ids): reserves
   * its versions and writes them into its header. A stream with no lane
   * (nothing pending, or only writes reserved by slot) is reserved by its
   * slot in the index, found once here (made for a new stream) and folded
   * by it: no lane, and no second lookup of the name when it is written.
   */
  private decideEncoded(bytes: Uint8Array, start: number, end: number, stream: string, expected: number, now: number, done: WriteDone, slot: number, wave: GatheredWave): void {
    const lane = this.pipeline.laneView(stream);
    let indexSlot = -1;
    let seen: number;
    if (lane !== undefined) seen = lane.deleted ? DELETED : lane.version;
    else {
      indexSlot = this.index.slotIfKnown(stream);
      seen = indexSlot < 0 ? 0 : this.pipeline.pendingSlots.waveOf(indexSlot) !== 0 ? this.pipeline.pendingSlots.versionOf(indexSlot) : this.index.writeVersionAt(indexSlot);
    }
    if (seen === DELETED) throw new StreamDeletedError(stream);
    assertExpectedVersion(stream, expectedOf(expected)!, seen);
    const firstPosition = seen + 1;
    const count = readU32(bytes, start + OFF_COUNT);
    writeU64(bytes, firstPosition, start + OFF_FIRST_POSITION);
    writeU64(bytes, now, start + OFF_TIMESTAMP);
    if (lane === undefined && indexSlot < 0) indexSlot = this.index.slotFor(stream);
    const write: PendingWrite = { kind: 'commit', stream, payload: bytes.subarray(start, end), firstPosition, count, ids: NO_IDS, done, slot, waiters: undefined, indexSlot };
    if (lane === undefined) this.pipeline.enqueueAt(write, firstPosition + count - 1, wave);
    else this.pipeline.enqueue(write, firstPosition + count - 1, false, wave);
  }

  /**
   * Decides a checked commit against the stream as the next write sees it:
   * a retry of a commit in the log gets its result, one racing its original
   * is decided again once that settles, a new one is reserved and queued
   * (into `wave` when given). Throws the conflicts (nothing reserved).
   */
  private decide(commit: CheckedCommit, now: number, done: WriteDone, slot: number, wave: GatheredWave | undefined): void {
    const { prepared } = commit;
    const { stream } = prepared;
    // only ids the caller gave can make a retry (generated ones are new)
    if (prepared.givenIds.length > 0) {
      const retry = checkRetry(prepared, this.window, (id) => this.pipeline.pendingId(id), this.journal);
      if (retry.kind === 'retry') return done.written(slot, retry.result);
      if (retry.kind === 'wait') {
        // once the write carrying one of these ids settles, the same call is made again: a retry if that write is in the log
        retry.settled
          .then(() => this.appendToStream(stream, commit.events, optionsOf(commit)))
          .then(
            (r) => done.written(slot, r),
            (err: unknown) => done.failed(slot, err),
          );
        return;
      }
    }
    const seen = this.writeVersionOf(stream);
    if (seen === DELETED && !commit.recreate) throw new StreamDeletedError(stream);
    const version = seen === DELETED ? 0 : seen;
    assertExpectedVersion(stream, commit.expected, version);
    const firstPosition = version + 1;
    const count = prepared.events.length;
    const write: PendingWrite = {
      kind: 'commit',
      stream,
      payload: encodeCommit(prepared, firstPosition, now),
      firstPosition,
      count,
      ids: prepared.givenIds,
      done,
      slot,
      waiters: undefined,
      indexSlot: -1,
    };
    this.pipeline.enqueue(write, firstPosition + count - 1, false, wave, this.seenBusyWave);
  }

  async deleteStream(stream: string, options?: DeleteStreamOptions): Promise<DeleteStreamResult> {
    this.checkOpen();
    validateStreamName(stream);
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new StoreInvalidArgumentError('options must be an object');
    checkOptionKeys('deleteStream', options, ['expectedVersion']);
    const expected = validateExpectedVersion(options?.expectedVersion);
    const version = this.writeVersionOf(stream);
    if (version === DELETED) throw new StreamDeletedError(stream, 'delete');
    assertExpectedVersion(stream, expected, version);
    if (version === 0) throw new StreamNotFoundError(stream); // a tombstone for nothing would only lock the name
    const done = new OneWrite();
    const write: PendingWrite = { kind: 'tombstone', stream, payload: encodeTombstone(stream, version, Date.now()), firstPosition: 0, count: 0, ids: [], done, slot: 0, waiters: undefined, indexSlot: -1 };
    this.pipeline.enqueue(write, 0, true, undefined, this.seenBusyWave);
    return done.promise as Promise<DeleteStreamResult>;
  }

  async readStream<E extends Event = Event>(stream: string, options?: ReadStreamOptions): Promise<ReadStreamResult<E>> {
    this.checkOpen();
    validateStreamName(stream);
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new StoreInvalidArgumentError('options must be an object');
    checkOptionKeys('readStream', options, ['from', 'to', 'maxCount']);
    const currentVersion = this.index.versionOf(stream);
    const from = positiveIntOr('from', options?.from, 1);
    let to = Math.min(positiveIntOr('to', options?.to, currentVersion), currentVersion);
    const maxCount = positiveIntOr('maxCount', options?.maxCount, Number.MAX_SAFE_INTEGER);
    if (maxCount < Number.MAX_SAFE_INTEGER) to = Math.min(to, Math.max(from, 1) + maxCount - 1);
    const first = Math.max(from, 1);
    const events: RecordedEvent[] = [];
    const offsets = this.index.commitOffsets(stream, first, to);
    if (offsets.length > 0) {
      const { upcasters } = this.options;
      const name = knownStream(stream);
      // the commits' bytes are visited where the journal read them, and decoded straight into the events returned
      readRecordsAt(this.journal, offsets, (bytes, at, len, offset) => void decodeRecordInto(bytes, at, len, offset, upcasters, first, to, events, name));
    }
    return { events: events as RecordedEvent<E>[], currentVersion, streamExists: currentVersion > 0 };
  }

  async aggregateStream<State, E extends Event = Event>(stream: string, options: AggregateStreamOptions<State, E>): Promise<AggregateStreamResult<State>> {
    this.checkOpen();
    validateStreamName(stream);
    if (typeof options?.evolve !== 'function' || typeof options.initialState !== 'function') {
      throw new StoreInvalidArgumentError('aggregateStream needs initialState and evolve functions');
    }
    checkOptionKeys('aggregateStream', options, ['initialState', 'evolve', 'to']);
    const currentVersion = this.index.versionOf(stream);
    const to = Math.min(positiveIntOr('to', options.to, currentVersion), currentVersion);
    let state = options.initialState();
    const offsets = this.index.commitOffsets(stream, 1, to);
    if (offsets.length > 0) {
      const { upcasters } = this.options;
      const { evolve } = options;
      const name = knownStream(stream);
      // commit by commit: a long stream is folded without holding all its events
      const commit: RecordedEvent[] = [];
      readRecordsAt(this.journal, offsets, (bytes, at, len, offset) => {
        decodeRecordInto(bytes, at, len, offset, upcasters, 1, to, commit, name);
        for (let i = 0; i < commit.length; i++) state = evolve(state, commit[i] as RecordedEvent<E>);
        commit.length = 0;
      });
    }
    return { state, currentVersion, streamExists: currentVersion > 0 };
  }

  async streamExists(stream: string): Promise<boolean> {
    this.checkOpen();
    validateStreamName(stream);
    return this.index.versionOf(stream) > 0;
  }

  readAll<E extends Event = Event>(fromPosition = 0): AsyncIterableIterator<RecordedEvent<E>> {
    // checked at the first next(), as a generator's body would be
    return new AllEvents(this.journal, this.options.upcasters, () => {
      this.checkOpen();
      return positiveIntOr('fromPosition', fromPosition, 0);
    }) as AsyncIterableIterator<RecordedEvent<E>>;
  }

  /**
   * Waits for every pending write, writes the index checkpoint (so the next
   * open reads no log), closes the journal. A second call gets the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.release();
    return this.closing;
  }

  private async release(): Promise<void> {
    try {
      await this.pipeline.whenIdle();
      await this.checkpointing; // never two writers of the file: the last rename must be the newest state
      // a periodic checkpoint that covers the log already (an import's last batch made one) is not written again
      if (this.checkpointedHead !== this.index.head) await this.checkpoint();
    } finally {
      await this.journal.close();
    }
  }

  /** Writes the index checkpoint now (it is written at close and periodically anyway). */
  async checkpoint(): Promise<void> {
    // the state is captured with nothing in flight (every record below the head is in the index);
    // the sync then makes those records durable before the file names them
    let bytes: Uint8Array;
    let head: number;
    this.pipeline.pause();
    try {
      await this.pipeline.whenIdle();
      bytes = encodeCheckpoint(this.index, this.window);
      head = this.index.head;
      this.commitsSinceCheckpoint = 0;
    } finally {
      this.pipeline.resume();
    }
    await this.journal.sync();
    writeCheckpointFile(this.options.io, this.options.dir, bytes);
    this.checkpointedHead = head;
  }

  private maybeCheckpoint(): void {
    if (this.commitsSinceCheckpoint < this.options.checkpointEvery || this.checkpointing || this.closing) return;
    this.checkpointing = this.checkpoint()
      .catch(() => undefined) // a checkpoint that fails costs only replay time at the next open
      .finally(() => (this.checkpointing = undefined));
  }

  /**
   * The stream's version as the next write sees it (after every pending
   * write, else as the index has it), or DELETED; `seenBusyWave` is then
   * the wave of its writes reserved by slot, if it has any (0 otherwise),
   * for the enqueue that follows in the same step.
   */
  private writeVersionOf(stream: string): number {
    this.seenBusyWave = 0;
    const lane = this.pipeline.laneView(stream);
    if (lane !== undefined) return lane.deleted ? DELETED : lane.version;
    const slot = this.index.slotIfKnown(stream);
    if (slot < 0) return 0;
    const pending = this.pipeline.pendingSlots;
    this.seenBusyWave = pending.waveOf(slot);
    return this.seenBusyWave !== 0 ? pending.versionOf(slot) : this.index.writeVersionAt(slot);
  }

  /** A write is in the log: the index and the window learn of it before its caller does. */
  private written(w: PendingWrite, at: Appended): void {
    if (at.next > this.index.head) this.index.advance(at.offset, at.next, at.blake3);
    if (w.kind === 'tombstone') {
      this.index.applyTombstone(w.stream);
      return;
    }
    if (w.indexSlot >= 0) this.index.applyCommitAt(w.indexSlot, at.offset, w.firstPosition, w.count);
    else this.index.applyCommit(w.stream, at.offset, w.firstPosition, w.count);
    for (let i = 0; i < w.ids.length; i++) this.window.add(w.ids[i]!, at.offset);
    if (++this.commitsSinceCheckpoint >= this.options.checkpointEvery) this.maybeCheckpoint();
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new StoreClosedError();
  }
}
