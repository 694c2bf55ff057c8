import { ClosedError, InvalidArgumentError, NotRecordBoundaryError, OffsetOutOfRangeError, type LogReader, type LogRecord, type ReadFromOptions, type Retention } from '@episteme/wal';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectCluster, type NatsConnectOptions } from '../connection.js';
import { NatsClusterError, NatsErrorCodes } from '../errors.js';
import { jetStreamHandles, type JetStreamHandles } from '../handles.js';
import { checkStreamName, streamInfoOrUndefined } from '../streamLayout.js';
import { retryTransient } from '../transient.js';
import { KvCursorStore } from './kvCursorStore.js';
import { positionAfter, seqBefore } from './positions.js';
import { RecordBuffer } from './recordBuffer.js';
import { StreamFollower } from './streamFollower.js';

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
}

const READ_BATCH = 256;

/**
 * The log interface over a JetStream stream, for the consumers and
 * projections packages on another machine than the writer's. A record's
 * `next` is its stream sequence times 65536 (positions.ts: room for the
 * global positions of a commit's events; position 0 lies before the first message);
 * the handle keeps the stream's retained records in memory, fetched by an
 * ordered consumer and followed as they arrive, so `head` is what this
 * reader has seen. Retention purges the stream below a position (never its
 * last message: a relay resumes from it); what was purged is reported as
 * deleted history (OffsetOutOfRange below `earliest`), never read over.
 * Cursors live in a replicated KV bucket (`cursors`), with
 * compare-and-set fencing between runners.
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
  private readonly buffer: RecordBuffer;
  private readonly follower: StreamFollower;
  private readonly handles: JetStreamHandles;
  private readonly ownsConnection: boolean;
  private readonly stream: string;
  private waiters = new Set<() => void>();
  private purges: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(parts: { stream: string; handles: JetStreamHandles; cursors: KvCursorStore; buffer: RecordBuffer; ownsConnection: boolean; purgeable: boolean }) {
    this.stream = parts.stream;
    this.purgeable = parts.purgeable;
    this.location = `nats:${parts.stream}`;
    this.handles = parts.handles;
    this.cursors = parts.cursors;
    this.buffer = parts.buffer;
    this.ownsConnection = parts.ownsConnection;
    this.follower = new StreamFollower(parts.handles, parts.stream, parts.buffer, () => this.wake());
  }

  /** Opens the stream (which must exist) and resolves once this reader holds every message it had at the open. */
  static async open(options: NatsLogOptions): Promise<NatsLog> {
    const stream = checkStreamName(options.stream);
    const deadlineMs = options.deadlineMs ?? 60_000;
    const nc = options.connection ?? (await connectCluster({ ...options, servers: options.servers ?? [] }));
    try {
      const handles = await jetStreamHandles(nc, deadlineMs);
      const info = await retryTransient(() => streamInfoOrUndefined(handles.jsm, stream), { what: `stream ${stream}`, deadlineMs });
      if (info === undefined) throw new NatsClusterError(NatsErrorCodes.InvalidArgument, `no stream ${stream} in the cluster (relay into it first, or name another)`);
      const bucket = options.cursorBucket ?? `episteme-cursors-${stream}`;
      const kv = await retryTransient(() => new Kvm(handles.js).create(bucket, { replicas: options.replicas ?? 3, history: 1 }), { what: `cursor bucket ${bucket}`, deadlineMs });
      const cursors = await KvCursorStore.open(kv, bucket, handles);
      const buffer = new RecordBuffer();
      buffer.reset(positionAfter(Math.max(0, info.state.first_seq - 1)));
      const purgeable = (info.config.subjects ?? []).every((subject) => !subject.includes('*') && !subject.includes('>'));
      const log = new NatsLog({ stream, handles, cursors, buffer, ownsConnection: options.connection === undefined, purgeable });
      log.follower.start();
      await log.caughtUpTo(info.state.last_seq);
      return log;
    } catch (error) {
      if (options.connection === undefined) await nc.close().catch(() => undefined);
      throw error;
    }
  }

  get head(): number {
    return this.buffer.head;
  }

  get earliest(): number {
    return this.buffer.earliest;
  }

  read(offset: number): LogRecord | undefined {
    return this.readMany(offset, 1)[0];
  }

  readMany(offset: number, maxRecords: number): LogRecord[] {
    this.checkOpen();
    checkPosition(offset);
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) throw new InvalidArgumentError(`maxRecords must be a non-negative integer, not ${String(maxRecords)}`);
    if (offset === this.head) return [];
    const index = this.indexOf(offset);
    return this.buffer.slice(index, maxRecords);
  }

  async *readFrom(offset: number, options: ReadFromOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
    checkPosition(offset);
    let position = offset;
    for (;;) {
      if (options.signal?.aborted) return;
      const batch = this.readMany(position, READ_BATCH);
      if (batch.length === 0) {
        if (!options.follow) return;
        await this.waitBeyond(position, options.signal);
        continue;
      }
      for (const record of batch) {
        yield record;
        position = record.next;
      }
    }
  }

  waitBeyond(offset: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.head > offset || this.closed || signal?.aborted || this.follower.failure !== undefined) {
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
    return this.buffer.at(this.buffer.indexAtOrBefore(offset))!.offset;
  }

  countRecords(from: number, to: number = this.head): number {
    this.checkOpen();
    checkPosition(from);
    checkPosition(to);
    if (from > to) throw new InvalidArgumentError(`countRecords needs from <= to, not from ${from} and to ${to}`);
    const end = to === this.head ? this.buffer.size : this.indexOf(to);
    return end - (from === this.head ? this.buffer.size : this.indexOf(from));
  }

  /** The follower keeps this handle current; a failure that stopped it is thrown here. */
  refresh(): void {
    this.checkOpen();
  }

  /** The cluster acknowledged what this reader holds: nothing to sync from here. */
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
    const below = Math.min(offset, this.buffer.lastStart); // the last message stays
    if (below <= this.earliest) return [];
    const from = seqBefore(this.earliest) + 1;
    const to = seqBefore(below);
    this.buffer.dropBelow(below);
    this.purges = this.purges.then(() =>
      retryTransient(() => this.handles.jsm.streams.purge(this.stream, { seq: to + 1 }), { what: `purging stream ${this.stream}` }).catch(() => undefined),
    );
    return [`${this.stream} sequences ${from}..${to}`];
  }

  /** Stops following, waits for queued cursor writes and purges, closes the connection this opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.follower.close();
    await this.cursors.flush().catch(() => undefined);
    await this.purges;
    this.cursors.close();
    if (this.ownsConnection) await this.handles.nc.close();
  }

  private async caughtUpTo(lastSeq: number): Promise<void> {
    while (this.head < positionAfter(lastSeq) && this.follower.failure === undefined) await this.waitBeyond(this.head);
    if (this.follower.failure !== undefined) throw this.follower.failure;
  }

  private indexOf(position: number): number {
    if (position < this.earliest) {
      throw new NatsClusterError(NatsErrorCodes.HistoryDeleted, `stream ${this.stream}: position ${position} was purged (the first retained record starts at ${this.earliest})`);
    }
    if (position > this.head) throw new OffsetOutOfRangeError(position, this.earliest, this.head);
    const index = this.buffer.indexAt(position);
    if (index < 0) throw new NotRecordBoundaryError(position);
    return index;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError();
    if (this.follower.failure !== undefined) throw this.follower.failure;
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}

function checkPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new InvalidArgumentError(`a position is a non-negative integer, not ${String(position)}`);
}
