import { sleep } from '@episteme/wal/internals';
import { NatsClusterError, NatsErrorCodes } from './errors.js';

/**
 * Whether a client error means "the cluster is between leaders or a server
 * is gone", which a retry after a pause fixes. The 3.x client reports no
 * responders during a failover as `JetStreamNotEnabled` (notes/jetstream.md).
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.name;
  if (name === 'JetStreamNotEnabled' || name === 'NoRespondersError' || name === 'TimeoutError' || name === 'RequestError' || name === 'DrainingConnectionError' || name === 'LeaderlessAnswerError') return true;
  const text = `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}`;
  return /no responders|timeout|timed out|no suitable peers|leader|jetstream is not enabled|temporarily unavailable|insufficient resources|disconnect|connection closed|heartbeat|consumer deleted|consumer not found|503/i.test(text);
}

export interface RetryOptions {
  /** Give up with NATS_UNAVAILABLE after this many milliseconds of transient failures (default 60 s). */
  deadlineMs?: number;
  /** What is being done, for the error message. */
  what: string;
  signal?: AbortSignal;
}

/** Runs `attempt` until it succeeds, retrying transient failures with a growing pause until the deadline. */
export async function retryTransient<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + (options.deadlineMs ?? 60_000);
  let pause = 50;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (options.signal?.aborted) throw options.signal.reason;
      if (Date.now() + pause > deadline) {
        throw new NatsClusterError(NatsErrorCodes.Unavailable, `${options.what}: the cluster stayed unavailable until the deadline (${(error as Error).message})`, { cause: error });
      }
      await sleep(pause, options.signal);
      pause = Math.min(pause * 2, 1_000);
    }
  }
}
