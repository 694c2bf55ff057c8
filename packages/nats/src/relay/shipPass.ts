import type { LogReader } from '@episteme/wal';
import { recordHeaders } from '../messageHeaders.js';
import { WRONG_LAST_SEQUENCE, type PublishOutcome, type PublishWindow } from '../publishWindow.js';

/** What the relay has shipped: advanced only over a contiguous run of acknowledged records. */
export interface ShipState {
  shipped: number;
  /** Journal position after the last acknowledged record. */
  position: number;
  /** Stream sequence of the last acknowledged record. */
  streamSeq: number;
}

export type PassOutcome = { kind: 'done' } | { kind: 'resync'; description: string } | { kind: 'refused'; description: string };

interface InFlight {
  seq: number;
  next: number;
  outcome: PublishOutcome | undefined;
}

/**
 * One pass of the relay: reads from `state.position` and publishes with up
 * to a window of acknowledgements outstanding, record k expecting the
 * stream's last sequence to be `state.streamSeq + k - 1`. Acknowledgements
 * are taken in publish order; the first failure stops the reading, the
 * pass waits for what is in flight (all later publishes fail the sequence
 * check), and the caller re-reads where the stream ends.
 */
export async function shipPass(reader: LogReader, window: PublishWindow, subject: string, state: ShipState, options: { follow: boolean; signal?: AbortSignal }): Promise<PassOutcome> {
  const queue: InFlight[] = [];
  let failure: PassOutcome | undefined;
  const stopReading = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopReading.signal]) : stopReading.signal;
  let drained: (() => void) | undefined;

  const takeAcknowledged = (): void => {
    while (queue.length > 0 && queue[0]!.outcome !== undefined) {
      const head = queue.shift()!;
      const outcome = head.outcome!;
      if (failure !== undefined) continue;
      if (outcome.ok && outcome.seq === head.seq) {
        state.shipped++;
        state.position = head.next;
        state.streamSeq = head.seq;
      } else {
        failure = classify(outcome, head.seq);
        stopReading.abort();
      }
    }
    if (queue.length === 0) drained?.();
  };

  let expected = state.streamSeq;
  try {
    for await (const record of reader.readFrom(state.position, { follow: options.follow, signal })) {
      if (failure !== undefined) break;
      // no await while there is room: a microtask per record is a measurable share of the relay's CPU
      if (window.full) await window.space();
      if (failure !== undefined || options.signal?.aborted) break;
      const entry: InFlight = { seq: expected + 1, next: record.next, outcome: undefined };
      queue.push(entry);
      // the payload may share a buffer with the reader's next read: the client keeps a reference until it flushes
      void window.publish(subject, record.payload.slice(), recordHeaders(record.offset, record.next, expected)).then((outcome) => {
        entry.outcome = outcome;
        takeAcknowledged();
      });
      expected++;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  if (queue.length > 0) await new Promise<void>((resolve) => (drained = resolve));
  return failure ?? { kind: 'done' };
}

function classify(outcome: PublishOutcome, seq: number): PassOutcome {
  if (outcome.ok) return { kind: 'resync', description: `record expected at sequence ${seq} was stored at ${outcome.seq}${outcome.duplicate ? ' (a duplicate)' : ''}` };
  if (outcome.retryable || outcome.errCode === WRONG_LAST_SEQUENCE) return { kind: 'resync', description: outcome.description };
  return { kind: 'refused', description: outcome.description };
}
