import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { sleep } from '@episteme/wal/internals';
import type { JetStreamHandles } from '../handles.js';
import { isTransient } from '../transient.js';
import { positionAfter, seqBefore } from './positions.js';
import type { RecordBuffer } from './recordBuffer.js';
import { leaderStreamInfo } from '../streamLayout.js';

/**
 * Keeps a RecordBuffer up to date with a stream: an ordered consumer from
 * the sequence after the last buffered one, restarted after a failover.
 * A sequence that jumps past purged messages moves the buffer's start to
 * the stream's first sequence, so that what was purged before this reader
 * saw it is reported as deleted history, never read over.
 */
export class StreamFollower {
  private messages: ConsumerMessages | undefined;
  private closed = false;
  private running: Promise<void> | undefined;
  /** The last error that stopped following for good (not a failover). */
  failure: unknown;

  constructor(
    private readonly handles: JetStreamHandles,
    private readonly stream: string,
    private readonly buffer: RecordBuffer,
    private readonly onChange: () => void,
  ) {}

  /** The sequence the buffer needs next. */
  private get nextSeq(): number {
    return seqBefore(this.buffer.head) + 1;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.messages?.close().catch(() => undefined);
    await this.running;
  }

  private async loop(): Promise<void> {
    let pause = 50;
    while (!this.closed) {
      try {
        await this.follow();
        pause = 50;
      } catch (error) {
        if (this.closed) return;
        if (!isTransient(error)) {
          this.failure = error;
          this.onChange();
          return;
        }
      }
      if (this.closed) return;
      await sleep(pause);
      pause = Math.min(pause * 2, 1_000);
    }
  }

  private async follow(): Promise<void> {
    const { js, jsm } = this.handles;
    const info = await leaderStreamInfo(jsm, this.stream);
    this.notePurge(info.state.first_seq, info.state.messages);
    const consumer = await js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.nextSeq });
    const messages = await consumer.consume({ max_messages: 4096 });
    this.messages = messages;
    if (this.closed) {
      await messages.close();
      return;
    }
    for await (const msg of messages) {
      if (msg.seq < this.nextSeq) continue; // a redelivery after the consumer was reset
      if (msg.seq > this.nextSeq) {
        // purged before this reader saw it, or a message deleted by hand: the stream's first sequence says which
        const now = await leaderStreamInfo(jsm, this.stream);
        this.notePurge(now.state.first_seq, now.state.messages);
      }
      this.buffer.push(msg.seq, msg.data);
      this.onChange();
    }
  }

  /** The stream's first retained sequence moved past what the buffer holds: drop below it. */
  notePurge(firstSeq: number, messages: number): void {
    void messages; // an empty stream has first = last + 1: the same rule holds
    const earliest = positionAfter(Math.max(0, firstSeq - 1));
    if (earliest > this.buffer.earliest) {
      if (earliest >= this.buffer.head) this.buffer.reset(earliest);
      else this.buffer.dropBelow(earliest);
      this.onChange();
    }
  }
}
