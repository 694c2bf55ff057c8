import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { JetStreamHandles } from './handles.js';
import { NatsClusterError, NatsErrorCodes } from './errors.js';
import { retryTransient } from './transient.js';
import { leaderStreamInfo } from './streamLayout.js';

export interface StreamRange {
  stream: string;
  /** First sequence wanted. */
  from: number;
  /** Stop after this sequence (default: the last sequence when the read starts). */
  to?: number;
  /** Only messages of this subject (one subject: server 2.9 takes no list). */
  subject?: string;
  signal?: AbortSignal;
}

/**
 * A stream's messages from `from` in sequence order, through an ordered
 * consumer (the client's fastest read). JetStream starts such a consumer at
 * the first remaining sequence when `from` was purged, silently: the first
 * sequence is checked here, and a gap is NATS_HISTORY_DELETED.
 */
export async function* streamMessages({ js, jsm }: JetStreamHandles, range: StreamRange): AsyncGenerator<JsMsg, void, undefined> {
  const info = await retryTransient(() => leaderStreamInfo(jsm, range.stream), { what: `stream ${range.stream}` });
  const to = range.to ?? info.state.last_seq;
  if (range.from > to) return;
  if (range.subject === undefined && range.from < info.state.first_seq) throw historyDeleted(range.stream, range.from, info.state.first_seq);
  const consumer = await js.consumers.get(range.stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: range.from,
    ...(range.subject !== undefined ? { filter_subjects: range.subject } : {}),
  });
  const messages = await consumer.consume({ max_messages: 4096 });
  const onAbort = (): void => void messages.stop();
  range.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let expected = range.from;
    for await (const msg of messages) {
      if (range.subject === undefined && msg.seq !== expected) throw historyDeleted(range.stream, expected, msg.seq);
      yield msg;
      expected = msg.seq + 1;
      if (msg.seq >= to) break;
    }
  } finally {
    range.signal?.removeEventListener('abort', onAbort);
    await messages.close().catch(() => undefined);
  }
}

function historyDeleted(stream: string, wanted: number, first: number): NatsClusterError {
  return new NatsClusterError(NatsErrorCodes.HistoryDeleted, `stream ${stream}: sequence ${wanted} was purged (the first retained one is ${first})`);
}
