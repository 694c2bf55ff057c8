import { ClosedError, InvalidArgumentError, NotRecordBoundaryError, OffsetOutOfRangeError, type LogReader, type LogRecord, type ReadFromOptions, type Retention } from '@episteme/wal';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectCluster, type NatsConnectOptions } from '../connection.js';
import { checkNatsOptionKeys } from '../optionKeys.js';
import { NatsClusterError, NatsErrorCodes } from '../errors.js';
import { jetStreamHandles, type JetStreamHandles } from '../handles.js';
import { checkStreamName, streamInfoOrUndefined, leaderStreamInfo } from '../streamLayout.js';
import { isTransient, retryTransient } from '../transient.js';
import { KvCursorStore } from './kvCursorStore.js';
import { POSITION_SCALE, positionAfter, seqBefore } from './positions.js';
import type { LaneOwner, WindowLimits } from './readAheadLane.js';
import { ReadLanes } from './readLanes.js';

/** NatsLogOptions' own keys, each listed once (the compiler checks). */
const NATS_LOG_KEYS: Record<Exclude<keyof NatsLogOptions, keyof NatsConnectOptions>, true> = {
  stream: true,
  connection: true,
  cursorBucket: true,
  replicas: true,
  deadlineMs: true,
  readAheadRecords: true,
  readAheadBytes: true,
};
const NATS_LOG_OPTION_KEYS: readonly string[] = Object.keys(NATS_LOG_KEYS);

export interface NatsLogOptions extends Partial<NatsConnectOptions> {
  /** The stream to read (a relay's, or any stream: each message is one record). */
  stream: string;
  /** An open connection to use instead of `servers` (it stays open). */
  connection?: NatsConnection;
  /** The KV bucket of the consumers' cursors (default `episteme-cursors-<stream>`), created R3 when missing. */
  cursorBucket?: string;
  /** Replicas of a cursor bucket this creates (default 3). */
  replicas?: number;
  /** Milliseconds the cluster may stay unavailable at open before NATS_UNAVAILABLE (default 60 s). */
  deadlineMs?: number;
  /** Records fetched ahead of a reader, at most (default 8192): a window per reader position, up to 4 held at once. */
  readAheadRecords?: number;
  /** Payload bytes fetched ahead of a reader, about (default 8 MiB; one fetch may pass it by a message or so). */
  readAheadBytes?: number;
}

const READ_BATCH = 256;
/** How often the stream's first and last sequences are asked for: `head` and `earliest` for readers not at the end. */
const BOUNDS_POLL_MS = 1_000;

/**
 * The log interface over a JetStream stream, for the consumers and
 * projections packages on another machine than the writer's. A record's
 * `next` is its stream sequence times 65536 (positions.ts: room for the
 * global positions of a commit's events; position 0 lies before the first
 * message). The handle does not hold the stream: each position readers
 * read from gets a lane that fetches the records after it with an ordered
 * consumer, a bounded window ahead of its reader (readAheadLane.ts), so a
 * reader of millions of records needs the memory of a window, not of the
 * stream. `readMany` is synchronous, as the log interface is: where the
 * records a reader asks for are still on their way it returns none below
 * the head, and `waitBeyond` resolves once they are here. `head` and
 * `earliest` follow the stream (what its lanes see, and a poll of the
 * stream's state each second). Retention purges the stream below a position
 * (never its last message: a relay resumes from it); what was purged, before
 * or after a lane fetched it, is reported as deleted history
 * (NATS_HISTORY_DELETED below `earliest`), never read over. Cursors live in a
 * replicated KV bucket (`cursors`), with compare-and-set fencing between runners.
 */
export class NatsLog implements LogReader, Retention {
  readonly location: string;
  readonly truncatedAt: number | undefined = undefined;
  readonly cursors: KvCursorStore;
  /**
   * Whether retention may purge this stream: a relay's (one literal
   * subject) may; an event store's (a wildcard over its event streams) may
   * not, since its streams are read from their first commit, as cleanup is
   * refused under an embedded store.
   */
  readonly purgeable: boolean;
  private readonly lanes: ReadLanes;
  private readonly handles: JetStreamHandles;
  private readonly ownsConnection: boolean;
  private readonly stream: string;
  /** The stream's last sequence as far as this handle knows (what its lanes saw, or the last poll). */
  private lastSeq: number;
  private earliestPosition: number;
  private waiters = new Set<() => void>();
  private purges: Promise<unknown> = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private failure: unknown;
  private closed = false;

  private constructor(parts: { stream: string; handles: JetStreamHandles; cursors: KvCursorStore; ownsConnection: boolean; purgeable: boolean; firstSeq: number; lastSeq: number; limits: WindowLimits }) {
    this.stream = parts.stream;
    this.purgeable = parts.purgeable;
    this.location = `nats:${parts.stream}`;
    this.handles = parts.handles;
    this.cursors = parts.cursors;
    this.ownsConnection = parts.ownsConnection;
    this.lastSeq = parts.lastSeq;
    this.earliestPosition = positionAfter(Math.max(0, parts.firstSeq - 1));
    const owner: LaneOwner = {
      changed: () => this.wake(),
      sawSeq: (seq) => {
        if (seq > this.lastSeq) this.lastSeq = seq;
      },
      firstSeqNow: () => this.pollBounds().then(() => seqBefore(this.earliestPosition) + 1),
      earliest: () => this.earliestPosition,
    };
    this.lanes = new ReadLanes(parts.handles, parts.stream, parts.limits, owner);
  }

  /** Opens the stream (which must exist) and resolves once the first window of records from the earliest retained one is here. */
  static async open(options: NatsLogOptions): Promise<NatsLog> {
    checkNatsOptionKeys('NatsLog.open', options, NATS_LOG_OPTION_KEYS);
    const stream = checkStreamName(options.stream);
    const limits = windowLimits(options);
    const deadlineMs = options.deadlineMs ?? 60_000;
    const nc = options.connection ?? (await connectCluster({ ...options, servers: options.servers ?? [] }));
    try {
      const handles = await jetStreamHandles(nc, deadlineMs);
      const info = await retryTransient(() => streamInfoOrUndefined(handles.jsm, stream), { what: `stream ${stream}`, deadlineMs });
      if (info === undefined) throw new NatsClusterError(NatsErrorCodes.InvalidArgument, `no stream ${stream} in the cluster (relay into it first, or name another)`);
      const bucket = options.cursorBucket ?? `episteme-cursors-${stream}`;
      const kv = await retryTransient(() => new Kvm(handles.js).create(bucket, { replicas: options.replicas ?? 3, history: 1 }), { what: `cursor bucket ${bucket}`, deadlineMs });
      const cursors = await KvCursorStore.open(kv, bucket, handles);
      const purgeable = (info.config.subjects ?? []).every((subject) => !subject.includes('*') && !subject.includes('>'));
      const log = new NatsLog({ stream, handles, cursors, ownsConnection: options.connection === undefined, purgeable, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, limits });
      await log.firstWindow();
      log.poll = setInterval(() => void log.pollBounds().catch(() => undefined), BOUNDS_POLL_MS);
      log.poll.unref();
      return log;
    } catch (error) {
      if (options.connection === undefined) await nc.close().catch(() => undefined);
      throw error;
    }
  }

  get head(): number {
    return positionAfter(this.lastSeq);
  }

  get earliest(): number {
    return this.earliestPosition;
  }

  read(offset: number): LogRecord | undefined {
    return this.readMany(offset, 1)[0];
  }

  /** Up to `maxRecords` records from `offset` that are here now: none at the head, nor below it while the lane from `offset` is fetching (`waitBeyond`). */
  readMany(offset: number, maxRecords: number): LogRecord[] {
    this.checkOpen();
    checkPosition(offset);
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) throw new InvalidArgumentError(`maxRecords must be a non-negative integer, not ${String(maxRecords)}`);
    this.checkBoundary(offset);
    if (offset === this.head || maxRecords === 0) return [];
    const lane = this.lanes.find(offset);
    if (lane === undefined) {
      this.lanes.ensure(offset);
      return [];
    }
    lane.noteRead(offset);
    if (offset === lane.end) return [];
    const index = lane.buffer.indexAt(offset);
    if (index < 0) throw new NotRecordBoundaryError(offset); // inside a record that spans messages deleted by hand
    return lane.buffer.slice(index, maxRecords);
  }

  async *readFrom(offset: number, options: ReadFromOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
    checkPosition(offset);
    let position = offset;
    for (;;) {
      if (options.signal?.aborted) return;
      const batch = this.readMany(position, READ_BATCH);
      if (batch.length === 0) {
        if (!options.follow && position >= this.head) return;
        await this.waitBeyond(position, options.signal);
        continue;
      }
      for (const record of batch) {
        yield record;
        position = record.next;
      }
    }
  }

  /** Resolves once a record at or after `offset` is here to read (or was purged: then readMany says so), or on abort or close. */
  waitBeyond(offset: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.closed || signal?.aborted || this.failure !== undefined || this.lanes.failure !== undefined || offset < this.earliest || this.readable(offset)) {
          this.waiters.delete(check);
          signal?.removeEventListener('abort', check);
          resolve();
        }
      };
      this.waiters.add(check);
      signal?.addEventListener('abort', check, { once: true });
      check();
    });
  }

  boundaryAtOrBefore(offset: number): number {
    this.checkOpen();
    checkPosition(offset);
    if (offset >= this.head) return this.head;
    if (offset < this.earliest) return -1;
    const lane = this.lanes.find(offset);
    if (lane !== undefined && offset < lane.end) return lane.buffer.at(lane.buffer.indexAtOrBefore(offset))!.offset;
    return positionAfter(seqBefore(offset));
  }

  /** The stream sequences in [from, to): the records, unless messages in between were deleted by hand (they count). */
  countRecords(from: number, to: number = this.head): number {
    this.checkOpen();
    checkPosition(from);
    checkPosition(to);
    if (from > to) throw new InvalidArgumentError(`countRecords needs from <= to, not from ${from} and to ${to}`);
    this.checkBoundary(from);
    this.checkBoundary(to);
    return seqBefore(to) - seqBefore(from);
  }

  /** Asks the stream for its bounds now (the answer arrives in the background: the poll keeps them current anyway). */
  refresh(): void {
    this.checkOpen();
    void this.pollBounds().catch(() => undefined);
  }

  /** The cluster acknowledged what this reader reads: nothing to sync from here. */
  async makeDurable(): Promise<void> {
    this.checkOpen();
  }

  /**
   * Purges the stream below `offset`, never its last message (a relay reads
   * its resume point there). Synchronous like a journal's: the records leave
   * this reader at once, the purge runs in the background (`close` waits for it).
   */
  deleteBelow(offset: number): string[] {
    this.checkOpen();
    if (!this.purgeable) return [];
    const below = Math.min(positionAfter(seqBefore(offset)), positionAfter(Math.max(0, this.lastSeq - 1))); // the last message stays
    if (below <= this.earliest) return [];
    const from = seqBefore(this.earliest) + 1;
    const to = seqBefore(below);
    this.notePurge(to + 1);
    this.purges = this.purges.then(() =>
      retryTransient(() => this.handles.jsm.streams.purge(this.stream, { seq: to + 1 }), { what: `purging stream ${this.stream}` }).catch(() => undefined),
    );
    return [`${this.stream} sequences ${from}..${to}`];
  }

  /** Stops the lanes and the poll, waits for queued cursor writes and purges, closes the connection this opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poll);
    this.wake();
    await this.lanes.close();
    await this.polling?.catch(() => undefined);
    await this.cursors.flush().catch(() => undefined);
    await this.purges;
    this.cursors.close();
    if (this.ownsConnection) await this.handles.nc.close();
  }

  /** What the handle holds now: its read-ahead lanes, and their records and payload bytes (the memory the read side needs). */
  get held(): { lanes: number; records: number; bytes: number } {
    return this.lanes.held();
  }

  /** A lane from the earliest record, filled up to its window or the head: a reader from there finds records at once. */
  private async firstWindow(): Promise<void> {
    const lane = this.lanes.ensure(this.earliest);
    const head = this.head;
    while (lane.end < head && !lane.full && lane.failure === undefined && this.earliest <= lane.end) await new Promise<void>((resolve) => this.waitForChange(resolve));
    if (lane.failure !== undefined) throw lane.failure;
  }

  private waitForChange(resolve: () => void): void {
    const once = (): void => {
      this.waiters.delete(once);
      resolve();
    };
    this.waiters.add(once);
  }

  /** Whether a record at or after `offset` is in a lane; asks for a lane from `offset` when none covers it. */
  private readable(offset: number): boolean {
    if (offset > this.head) return false;
    const lane = this.lanes.find(offset);
    if (lane === undefined) {
      if (offset % POSITION_SCALE === 0) this.lanes.ensure(offset);
      return false;
    }
    return lane.end > offset;
  }

  /** Reads the stream's first and last sequences (one request at a time). */
  private pollBounds(): Promise<void> {
    this.polling ??= (async () => {
      try {
        const info = await leaderStreamInfo(this.handles.jsm, this.stream);
        if (info.state.last_seq > this.lastSeq) this.lastSeq = info.state.last_seq;
        this.notePurge(info.state.first_seq);
        this.lanes.closeAbandoned();
        this.wake();
      } catch (error) {
        if (!isTransient(error) && !this.closed) {
          this.failure ??= error;
          this.wake();
        }
        throw error;
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  /** The stream's first retained sequence is `firstSeq`: what lies below it is deleted history, also in the lanes. */
  private notePurge(firstSeq: number): void {
    const earliest = positionAfter(Math.max(0, firstSeq - 1));
    if (earliest <= this.earliestPosition) return;
    this.earliestPosition = earliest;
    if (firstSeq - 1 > this.lastSeq) this.lastSeq = firstSeq - 1;
    this.lanes.dropBelow(earliest);
    this.wake();
  }

  /** A position readers may name: a record boundary (a multiple of the scale) within [earliest, head]. */
  private checkBoundary(position: number): void {
    if (position < this.earliest) {
      throw new NatsClusterError(NatsErrorCodes.HistoryDeleted, `stream ${this.stream}: position ${position} was purged (the first retained record starts at ${this.earliest})`);
    }
    if (position > this.head) throw new OffsetOutOfRangeError(position, this.earliest, this.head);
    if (position % POSITION_SCALE !== 0) throw new NotRecordBoundaryError(position);
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError();
    if (this.failure !== undefined) throw this.failure;
    const laneFailure = this.lanes.failure;
    if (laneFailure !== undefined) throw laneFailure;
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}

function checkPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new InvalidArgumentError(`a position is a non-negative integer, not ${String(position)}`);
}

function windowLimits(options: NatsLogOptions): WindowLimits {
  const limit = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new NatsClusterError(NatsErrorCodes.InvalidArgument, `${name} must be a positive integer, not ${String(value)}`);
    return value;
  };
  return { records: limit('readAheadRecords', options.readAheadRecords, 8192), bytes: limit('readAheadBytes', options.readAheadBytes, 8 * 1024 * 1024) };
}
