import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { LogRecord } from '@episteme/wal';
import { sleep } from '@episteme/wal/internals';
import type { JetStreamHandles } from '../handles.js';
import { isTransient } from '../transient.js';
import { positionAfter, seqBefore } from './positions.js';
import { RecordBuffer } from './recordBuffer.js';

/** How much one lane may hold ahead of its reader. */
export interface WindowLimits {
  records: number;
  bytes: number;
}

/** What a lane tells the log it belongs to. */
export interface LaneOwner {
  /** Records arrived, or the lane failed: wake the waiters. */
  changed(): void;
  /** A message with this sequence exists: the head is at least after it. */
  sawSeq(seq: number): void;
  /** A lane's messages jumped over sequences: the stream's first sequence now (the log notes a purge), asked of the cluster. */
  firstSeqNow(): Promise<number>;
  /** Where retained records start, as far as the log knows. */
  earliest(): number;
}

/** The most messages one fetch asks for: a pull request's round trip is paid once per batch. */
const FETCH_MAX = 1024;
/** A fetch at the stream's end waits this long for new messages before the next one asks again. */
const FETCH_EXPIRES_MS = 2_000;

/**
 * The records of a stream from one start position onwards, fetched ahead
 * of the reader at that position through an ordered consumer, and never
 * more than `limits` of them: each fetch asks for what fits, and a full
 * lane waits until its reader moves on (the records it passed make room).
 * At the stream's end the lane's fetches wait for new messages, so a
 * follower sees them as they arrive.
 */
export class ReadAheadLane {
  readonly buffer = new RecordBuffer();
  /** When a reader last used this lane (performance.now()): idle lanes close, the least recently used first. */
  lastUsed = performance.now();
  /** An error that stopped this lane for good (not a failover). */
  failure: unknown;
  private readTo: number;
  private consumer: Consumer | undefined;
  private fetching: ConsumerMessages | undefined;
  private closed = false;
  private roomWaiter: (() => void) | undefined;
  private readonly running: Promise<void>;
  /** The largest payload seen, to size a fetch so that the window's bytes are not overrun by much. */
  private largest = 0;

  constructor(
    private readonly handles: JetStreamHandles,
    private readonly stream: string,
    start: number,
    private readonly limits: WindowLimits,
    private readonly owner: LaneOwner,
  ) {
    this.buffer.reset(start);
    this.readTo = start;
    this.running = this.pump();
  }

  /** Where the lane's next record will start. */
  get end(): number {
    return this.buffer.head;
  }

  /** Whether `position` is a record of this lane, or where its next one will start. */
  covers(position: number): boolean {
    return position >= this.buffer.earliest && position <= this.buffer.head;
  }

  /** Whether the window holds all it may. */
  get full(): boolean {
    return this.buffer.size >= this.limits.records || this.buffer.bytes >= this.limits.bytes;
  }

  /** A reader is at `position`: what lies below it may leave to make room. */
  noteRead(position: number): void {
    this.lastUsed = performance.now();
    if (position > this.readTo) this.readTo = position;
    if (this.roomWaiter !== undefined && this.hasRoom()) {
      const wake = this.roomWaiter;
      this.roomWaiter = undefined;
      wake();
    }
  }

  /** Drops what lies below `position` (purged). */
  dropBelow(position: number): void {
    this.buffer.dropBelow(position);
    if (this.readTo < this.buffer.earliest) this.readTo = this.buffer.earliest;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.roomWaiter?.();
    await this.fetching?.close().catch(() => undefined);
    await this.running;
    await this.consumer?.delete().catch(() => undefined);
  }

  private hasRoom(): boolean {
    if (this.full) this.buffer.dropBelow(Math.min(this.readTo, this.buffer.head));
    return !this.full;
  }

  /** How many messages the next fetch asks for: what fits in the records and, by the largest payload seen, in the bytes. */
  private fetchSize(): number {
    const records = this.limits.records - this.buffer.size;
    const bytes = this.largest === 0 ? 64 : Math.floor((this.limits.bytes - this.buffer.bytes) / this.largest);
    return Math.max(1, Math.min(FETCH_MAX, records, bytes));
  }

  private async pump(): Promise<void> {
    let pause = 50;
    while (!this.closed) {
      try {
        if (!this.hasRoom()) await new Promise<void>((resolve) => (this.roomWaiter = resolve));
        if (this.closed) return;
        this.consumer ??= await this.handles.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seqBefore(this.end) + 1 });
        const batch = await this.consumer.fetch({ max_messages: this.fetchSize(), expires: FETCH_EXPIRES_MS });
        this.fetching = batch;
        if (this.closed) return;
        for await (const msg of batch) await this.accept(msg);
        pause = 50;
      } catch (error) {
        if (this.closed) return;
        if (!isTransient(error)) {
          this.failure = error;
          this.owner.changed();
          return;
        }
        // a failover: a new consumer from where this lane ends
        this.consumer?.delete().catch(() => undefined);
        this.consumer = undefined;
        await sleep(pause);
        pause = Math.min(pause * 2, 1_000);
      }
    }
  }

  private async accept(msg: JsMsg): Promise<void> {
    const expected = seqBefore(this.end) + 1;
    if (msg.seq < expected) return; // a redelivery after the consumer was reset
    if (msg.seq > expected) {
      // purged before this lane fetched it, or deleted by hand: the stream's first sequence says which
      const first = await this.owner.firstSeqNow();
      if (first > expected) this.buffer.dropBelow(Math.max(this.owner.earliest(), positionAfter(first - 1)));
    }
    if (this.closed) return;
    const record: LogRecord = this.buffer.push(msg.seq, msg.data);
    if (record.payload.length > this.largest) this.largest = record.payload.length;
    this.owner.sawSeq(msg.seq);
    this.owner.changed();
  }
}
