import { isWalError, transientReadBuffer, WalErrorCodes, type LogRecord } from '@episteme/wal';
import { sleep } from '@episteme/wal/internals';
import { validateConsumerName } from './consumerName.js';
import { FileCursorStore } from './fileCursorStore.js';
import { holdForRun, releaseAfterRun } from './heldCursorFile.js';
import { beginRun, commitHandled, commitHandledAsync, type ConsumerRegistry } from './registry.js';
import { markRunningHere } from './running.js';
import { EventLoopYield } from './eventLoopYield.js';
import { checkRunOptions, type RecordHandler, type RetryPolicy, type RunOptions } from './runOptions.js';

export type { BatchHandler, RecordHandler, RetryOptions, RunOptions } from './runOptions.js';

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
 * the records before the one that failed: a record is never skipped. A
 * consumer running in another live process (or already in this one) is
 * refused with ConsumerRunningError before anything is written. A cursor
 * commit that fails (the disk under the cursor files) stops the run as
 * failed with that error. An abort stops it as stopped, without another
 * handler call or backoff wait, the cursor committed just after the last
 * record handled: neither past an unhandled one nor behind a handled one.
 * The log closing under the run (an app shutting down) stops it the
 * same way: `failed` is for a consumer that cannot go on, not for a shutdown.
 */
export async function runConsumer(registry: ConsumerRegistry, name: string, optionsGiven: RunOptions): Promise<RunResult> {
  const { batchSize, commitEveryRecords, commitEveryMs, retry, signal, onCommit, transientRecords, ...options } = checkRunOptions(optionsGiven);
  const { log } = registry;
  // every record of a batch is handled (or the run ends) before the next read; the batch is held
  // across the handler's awaits, so into a buffer of this run's own, which no other reader of the handle reads into
  const readOptions = transientRecords ? { transient: transientReadBuffer() } : undefined;

  validateConsumerName(name);
  const unmark = markRunningHere(log.location, name); // refuses a consumer already running here
  let committed: number;
  try {
    committed = registry[beginRun](name).cursor; // refuses a consumer another live process runs
  } catch (err) {
    unmark();
    throw err;
  }

  let done = committed; // offset after the last handled record
  let handled = 0;
  let sinceCommit = 0; // records handled since the last commit
  let lastCommit = performance.now();
  /** Set when a commit in flight (or its onCommit) failed: the loop finishes as failed at its next step. */
  let commitError: Error | undefined;
  // one signal for the user's abort and for a failed commit, so that waits and backoffs wake up
  const stop = new AbortController();
  // read per record: a plain flag, not the signal's `aborted` getter (a few % of a no-op handler's run)
  const run: HandlerRun = { stopping: false, first: undefined };
  stop.signal.addEventListener('abort', () => (run.stopping = true), { once: true });
  const onAbort = (): void => stop.abort();
  if (signal?.aborted) stop.abort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const outcome = (): Error | 'aborted' => commitError ?? 'aborted';

  /** The final commit of a run (with its state), after the last one in flight. */
  const commit = (patch?: Parameters<ConsumerRegistry['commit']>[2]): void => {
    if (done === committed && !patch) return;
    committed = registry[commitHandled](name, done, patch).cursor;
  };
  /**
   * The commit in flight: its syncs run off the event loop while the handler
   * goes on with the next records. At most one at a time (two commits of one
   * cursor file could land out of order); one that fails stops the run as
   * failed at its next step, having committed what it had before.
   */
  let inFlight: Promise<void> | undefined;
  const fail = (err: unknown): void => {
    commitError ??= asError(err);
    stop.abort();
  };
  const startCommit = (): void => {
    if (inFlight || commitError || done === committed) return;
    sinceCommit = 0;
    lastCommit = performance.now();
    inFlight = registry[commitHandledAsync](name, done)
      .then(
        (state) => {
          committed = state.cursor;
          try {
            onCommit?.(committed);
          } catch (err) {
            fail(err);
          }
        },
        fail,
      )
      .then(() => {
        inFlight = undefined;
      });
  };
  const commitDue = (): boolean => sinceCommit >= commitEveryRecords || (done !== committed && performance.now() - lastCommit >= commitEveryMs);
  // commits on a timer too, so that a quiet log does not leave work uncommitted
  const timer = setInterval(() => {
    if (performance.now() - lastCommit >= commitEveryMs) startCommit();
  }, Math.max(10, Math.floor(commitEveryMs / 2)));
  timer.unref();
  /**
   * A handler that returns no promise never yields to the event loop: a
   * catch-up over millions of records would starve timers, signals and the
   * commit in flight. Yield between batches at least every 10 ms; within a
   * batch, every 10 ms too, so that an abort reaches a slow handler's loop.
   * Not after every batch: a fast handler's batch takes 50-100 µs, and the
   * two loop turns of a yield cost about 10 µs. The end of a commit in
   * flight is seen at these yields too, so a catch-up commits about every
   * 10 ms, whatever commitEveryRecords asks: looking for it every
   * millisecond made a commit per sync (~240 per million records, each
   * ~140 µs of CPU with its looks), 7-8% of a no-op handler's catch-up,
   * for a redo after a crash of ~4 ms of work instead of ~10 ms
   * (bench/issues/24-read-path.md).
   */
  const pacer = new EventLoopYield();
  const yieldIfDue = async (): Promise<void> => {
    if (pacer.due()) await pacer.yield();
  };
  // no other writer of the cursor file while this run lasts (reset and delete are refused): its commits keep it open
  const held = registry.store instanceof FileCursorStore ? registry.store : undefined;
  held?.[holdForRun](name);

  try {
    while (!run.stopping) {
      const batch = log.readMany(done, batchSize, readOptions);
      if (batch.length === 0) {
        // below the head, a log read over the network (a NatsLog) is still fetching: wait for it
        if (options.stopAtHead && done >= log.head) break;
        startCommit();
        await log.waitBeyond(done, stop.signal);
        continue;
      }
      if (options.batchHandler) {
        const ok = await attempt(() => options.batchHandler!(batch), retry, stop.signal);
        if (ok !== true) return await finish(ok === 'aborted' ? outcome() : ok);
        done = batch[batch.length - 1]!.next;
        handled += batch.length;
        sinceCommit += batch.length;
      } else {
        const handler = options.handler!;
        for (let i = 0; i < batch.length; ) {
          const from = i;
          // records up to the next commit due (none while one is in flight: it starts once that one is durable) or clock read
          const untilCommit = inFlight ? batch.length : Math.max(1, commitEveryRecords - sinceCommit);
          const end = callWhileSync(handler, batch, i, Math.min(batch.length, i + untilCommit, i + pacer.recordsBeforeCheck()), run);
          const ran = end - i;
          if (ran > 0) {
            done = batch[end - 1]!.next;
            handled += ran;
            sinceCommit += ran;
          }
          i = end;
          if (run.first !== undefined) {
            // the handler returned a promise for record i, or threw: awaited (and retried) here
            const record = batch[i]!;
            const first = run.first;
            run.first = undefined;
            const ok = await attempt(() => handler(record), retry, stop.signal, first);
            if (ok !== true) return await finish(ok === 'aborted' ? outcome() : ok);
            done = record.next;
            handled++;
            sinceCommit++;
            i++;
          }
          // stop before the next record, not at the end of the batch (up to batchSize handler calls later)
          if (run.stopping) break;
          if (commitError) return await finish(commitError);
          if (sinceCommit >= commitEveryRecords) startCommit();
          // otherwise a busy handler (sync, or async without I/O) would see an abort only at the end of the batch
          const due = pacer.afterRecords(i - from);
          if (due) await due;
        }
      }
      if (commitError) return await finish(commitError);
      // finish commits what was handled, with the stopped state: no commit of its own before that
      if (run.stopping) break;
      if (commitDue()) startCommit();
      await yieldIfDue();
    }
    return await finish(outcome());
  } catch (err) {
    // the log closed under the run (an app shutting down): a stop, not a failure of the consumer
    if (isWalError(err, WalErrorCodes.Closed)) return await finish('aborted');
    return await finish(asError(err));
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    held?.[releaseAfterRun](name);
    unmark();
  }

  async function finish(result: Error | 'aborted'): Promise<RunResult> {
    await inFlight; // never rejects: a failure lands in commitError
    const outcome = result === 'aborted' ? (commitError ?? 'aborted') : result;
    if (outcome === 'aborted') {
      commit({ state: 'stopped' });
      return { name, state: 'stopped', cursor: committed, handled };
    }
    try {
      commit({ state: 'failed', error: outcome.message });
    } catch {
      // the failure we report is the handler's (or the first failed commit); the cursor stays where it was
    }
    return { name, state: 'failed', cursor: committed, handled, error: outcome };
  }
}

/** The outcome of a handler's first call that did not complete at once: a promise to await, or what it threw. */
type FirstCall = { promise: PromiseLike<unknown> } | { error: unknown };

/** What the runner's loop and callWhileSync share: the stop flag, and a first call left to await. */
interface HandlerRun {
  stopping: boolean;
  first: FirstCall | undefined;
}

/**
 * Calls `handler` on batch[from, to) in order while each call returns no
 * promise and throws nothing: a sync handler's slice costs one call of this
 * function and no await (per record, the runner's own work was 8-10% of a
 * catch-up's CPU). Returns the index of the first record not done: `to`; or
 * the one whose call returned a promise or threw, its outcome left in
 * `run.first`; or, once the run is stopping, the next one.
 */
function callWhileSync(handler: RecordHandler, batch: LogRecord[], from: number, to: number, run: HandlerRun): number {
  for (let i = from; i < to; i++) {
    if (run.stopping) return i;
    let result: unknown;
    try {
      result = handler(batch[i]!);
    } catch (error) {
      run.first = { error };
      return i;
    }
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      run.first = { promise: result as PromiseLike<unknown> };
      return i;
    }
  }
  return to;
}

/**
 * Runs `fn` with retries; true on success, 'aborted', or the last error.
 * `first` is the outcome of a first call already made (it counts as attempt 1).
 */
async function attempt(fn: () => unknown, retry: RetryPolicy, signal: AbortSignal, first?: FirstCall): Promise<true | 'aborted' | Error> {
  const { maxAttempts, maxDelayMs: maxDelay } = retry;
  let delay = retry.initialDelayMs;
  for (let i = 1; ; i++) {
    try {
      if (i === 1 && first) {
        if ('error' in first) throw first.error;
        await first.promise;
      } else {
        await fn();
      }
      return true;
    } catch (err) {
      if (i >= maxAttempts) return asError(err);
    }
    if (signal?.aborted) return 'aborted';
    await sleep(delay, signal);
    if (signal?.aborted) return 'aborted';
    delay = Math.min(maxDelay, delay * 2);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
