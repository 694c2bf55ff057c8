import type { JournalRecord } from '@episteme/wal';
import { InvalidConsumerArgumentError } from './errors.js';
import type { ConsumerRegistry } from './registry.js';

export type RecordHandler = (record: JournalRecord) => unknown | Promise<unknown>;
export type BatchHandler = (records: JournalRecord[]) => unknown | Promise<unknown>;

export interface RetryOptions {
  /** Attempts per record (or batch) before the consumer stops as failed (default 5). */
  maxAttempts?: number;
  /** First backoff delay, doubled after each failure (default 50 ms). */
  initialDelayMs?: number;
  /** Largest backoff delay (default 5 s). */
  maxDelayMs?: number;
}

export interface RunOptions {
  /** Called once per record, in offset order. Give this or `batchHandler`. */
  handler?: RecordHandler;
  /** Called with up to `batchSize` records at a time, in offset order. */
  batchHandler?: BatchHandler;
  /** Records read (and handed to a batch handler) at a time (default 256). */
  batchSize?: number;
  /** Commit after this many handled records (default 1000; 1 = after every record). */
  commitEveryRecords?: number;
  /** ...or after this long since the last commit, whichever comes first (default 1000 ms). */
  commitEveryMs?: number;
  retry?: RetryOptions;
  /** Stops the runner; what was handled is committed first. */
  signal?: AbortSignal;
  /** Stop at the head instead of following it (a catch-up run). */
  stopAtHead?: boolean;
}

export interface RunResult {
  name: string;
  state: 'stopped' | 'failed';
  cursor: number;
  handled: number;
  error?: Error;
}

/**
 * Runs a consumer from its durable cursor: at-least-once, in offset order,
 * the cursor committed only after the handler succeeded. A failing handler
 * is retried with exponential backoff; after the last attempt the consumer
 * stops in the failed state (visible in `list()`), having committed exactly
 * the records before the one that failed: a record is never skipped.
 */
export async function runConsumer(registry: ConsumerRegistry, name: string, options: RunOptions): Promise<RunResult> {
  if (!options.handler === !options.batchHandler) {
    throw new InvalidConsumerArgumentError('runConsumer needs exactly one of `handler` and `batchHandler`');
  }
  const batchSize = positive('batchSize', options.batchSize ?? 256);
  const commitEveryRecords = positive('commitEveryRecords', options.commitEveryRecords ?? 1000);
  const commitEveryMs = positive('commitEveryMs', options.commitEveryMs ?? 1000);
  const { journal } = registry;
  const { signal } = options;

  let committed = registry.commit(name, registry.get(name).cursor, { state: 'running', pid: process.pid }).cursor;
  let done = committed; // offset after the last handled record
  let handled = 0;
  let lastCommit = performance.now();
  const commit = (patch?: Parameters<ConsumerRegistry['commit']>[2]): void => {
    if (done === committed && !patch) return;
    committed = registry.commit(name, done, patch).cursor;
    lastCommit = performance.now();
  };
  // commits on a timer too, so that a quiet log does not leave work uncommitted
  const timer = setInterval(() => {
    if (done !== committed && performance.now() - lastCommit >= commitEveryMs) commit();
  }, Math.max(10, Math.floor(commitEveryMs / 2)));
  timer.unref();

  try {
    while (!signal?.aborted) {
      const batch = journal.readMany(done, batchSize);
      if (batch.length === 0) {
        commit();
        if (options.stopAtHead) break;
        await journal.waitBeyond(done, signal);
        continue;
      }
      if (options.batchHandler) {
        const ok = await attempt(() => options.batchHandler!(batch), options.retry, signal);
        if (ok !== true) return finish(ok);
        done = batch[batch.length - 1]!.next;
        handled += batch.length;
      } else {
        for (const record of batch) {
          const ok = await attempt(() => options.handler!(record), options.retry, signal);
          if (ok !== true) return finish(ok);
          done = record.next;
          handled++;
          if (handled % commitEveryRecords === 0) commit();
        }
      }
      if (handled % commitEveryRecords === 0 || performance.now() - lastCommit >= commitEveryMs) commit();
    }
    return finish('aborted');
  } catch (err) {
    return finish(err instanceof Error ? err : new Error(String(err)));
  } finally {
    clearInterval(timer);
  }

  function finish(outcome: Error | 'aborted'): RunResult {
    if (outcome === 'aborted') {
      commit({ state: 'stopped' });
      return { name, state: 'stopped', cursor: committed, handled };
    }
    try {
      commit({ state: 'failed', error: outcome.message });
    } catch {
      // the failure we report is the handler's; the cursor stays where it was
    }
    return { name, state: 'failed', cursor: committed, handled, error: outcome };
  }
}

/** Runs `fn` with retries; true on success, 'aborted', or the last error. */
async function attempt(fn: () => unknown, retry: RetryOptions = {}, signal?: AbortSignal): Promise<true | 'aborted' | Error> {
  const maxAttempts = retry.maxAttempts ?? 5;
  let delay = retry.initialDelayMs ?? 50;
  const maxDelay = retry.maxDelayMs ?? 5000;
  for (let i = 1; ; i++) {
    try {
      await fn();
      return true;
    } catch (err) {
      if (i >= maxAttempts) return err instanceof Error ? err : new Error(String(err));
    }
    if (signal?.aborted) return 'aborted';
    await sleep(delay, signal);
    if (signal?.aborted) return 'aborted';
    delay = Math.min(maxDelay, delay * 2);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidConsumerArgumentError(`${name} must be a positive integer, not ${String(v)}`);
  return v;
}
