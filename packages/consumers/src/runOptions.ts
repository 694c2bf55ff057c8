import type { LogRecord } from '@episteme/wal';
import { unknownOptionKey, unknownOptionMessage } from '@episteme/wal/internals';
import { InvalidConsumerArgumentError } from './errors.js';

/** Receives each record as read: its payload and blake3 may be views of shared buffers, so copy what you keep. */
export type RecordHandler = (record: LogRecord) => unknown | Promise<unknown>;
export type BatchHandler = (records: LogRecord[]) => unknown | Promise<unknown>;

export interface RetryOptions {
  /** Attempts per record (or batch) before the consumer stops as failed: a positive integer (default 5). */
  maxAttempts?: number;
  /** First backoff delay in ms, doubled after each failure: an integer in [0, 2^31 - 1] (default 50). */
  initialDelayMs?: number;
  /** Largest backoff delay in ms: an integer in [0, 2^31 - 1] (default 5000). */
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
  /** ...or after this long since the last commit, whichever comes first: ms in [1, 2^31 - 1] (default 1000). */
  commitEveryMs?: number;
  retry?: RetryOptions;
  /**
   * Called with the cursor each time a commit of the run is durable (not for
   * the final commit: that one is the result's `cursor`). A crash from then on
   * resumes at this cursor or later, never before it, and never past a record
   * the handler did not complete. What it throws stops the run as failed.
   */
  onCommit?: (cursor: number) => void;
  /**
   * Stops the runner promptly: a record handler is not called again once it
   * aborts (the call in progress finishes), a batch handler's batch in
   * progress finishes and no other starts, a retry backoff is cut short. The
   * cursor is then committed just after the last record handled.
   */
  signal?: AbortSignal;
  /** Stop at the head instead of following it (a catch-up run). */
  stopAtHead?: boolean;
  /**
   * The handler keeps no record (nor its `payload`, `blake3`) once its call
   * (or its promise) is done: the runner then reads with `transient: true`,
   * into one buffer that the next batch reads over (no fresh memory per
   * batch). Copy what you keep; off by default.
   */
  transientRecords?: boolean;
}

/**
 * The largest delay Node's timers take: a longer one (2^31 ms or more) is
 * run after 1 ms instead, with a TimeoutOverflowWarning, so a commit timer or
 * a backoff would fire every millisecond.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** RunOptions checked, with their defaults: exactly one of the handlers. */
export interface CheckedRunOptions {
  handler?: RecordHandler;
  batchHandler?: BatchHandler;
  batchSize: number;
  commitEveryRecords: number;
  commitEveryMs: number;
  retry: RetryPolicy;
  onCommit?: (cursor: number) => void;
  signal?: AbortSignal;
  stopAtHead: boolean;
  transientRecords: boolean;
}

/** The keys of RunOptions and RetryOptions, each listed once (the compiler checks). */
const RUN_KEYS: Record<keyof RunOptions, true> = {
  handler: true,
  batchHandler: true,
  batchSize: true,
  commitEveryRecords: true,
  commitEveryMs: true,
  retry: true,
  onCommit: true,
  signal: true,
  stopAtHead: true,
  transientRecords: true,
};
const RUN_OPTION_KEYS: readonly string[] = Object.keys(RUN_KEYS);
const RETRY_KEYS: Record<keyof RetryOptions, true> = { maxAttempts: true, initialDelayMs: true, maxDelayMs: true };
const RETRY_OPTION_KEYS: readonly string[] = Object.keys(RETRY_KEYS);

/**
 * Checks `runConsumer`'s options before anything is written: a bad one is
 * an InvalidConsumerArgumentError (CONSUMER_INVALID_ARGUMENT), never a run
 * that fails later with the mistake persisted as the consumer's error. Only
 * `undefined` takes the default: a `null` is reported, not read as "unset".
 */
export function checkRunOptions(options: unknown): CheckedRunOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidConsumerArgumentError(`runConsumer's options must be an object, not ${String(options)}`);
  }
  // a misspelt `comitEveryRecords` or `stopAtHed` would be its default, silently
  const unknown = unknownOptionKey(options, RUN_OPTION_KEYS);
  if (unknown !== undefined) throw new InvalidConsumerArgumentError(unknownOptionMessage('runConsumer', unknown, RUN_OPTION_KEYS));
  const o = options as Record<keyof RunOptions, unknown>;
  if ((o.handler === undefined) === (o.batchHandler === undefined)) {
    throw new InvalidConsumerArgumentError('runConsumer needs exactly one of `handler` and `batchHandler`');
  }
  const key = o.handler !== undefined ? 'handler' : 'batchHandler';
  if (typeof o[key] !== 'function') {
    throw new InvalidConsumerArgumentError(`${key} must be a function, not ${describe(o[key])}`);
  }
  if (o.stopAtHead !== undefined && typeof o.stopAtHead !== 'boolean') {
    throw new InvalidConsumerArgumentError(`stopAtHead must be a boolean, not ${describe(o.stopAtHead)}`);
  }
  if (o.transientRecords !== undefined && typeof o.transientRecords !== 'boolean') {
    throw new InvalidConsumerArgumentError(`transientRecords must be a boolean, not ${describe(o.transientRecords)}`);
  }
  if (o.onCommit !== undefined && typeof o.onCommit !== 'function') {
    throw new InvalidConsumerArgumentError(`onCommit must be a function, not ${describe(o.onCommit)}`);
  }
  const signal = o.signal;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new InvalidConsumerArgumentError(`signal must be an AbortSignal, not ${describe(signal)}`);
  }
  return {
    [key]: o[key],
    batchSize: integer('batchSize', o.batchSize, 256, 1),
    commitEveryRecords: integer('commitEveryRecords', o.commitEveryRecords, 1000, 1),
    commitEveryMs: integer('commitEveryMs', o.commitEveryMs, 1000, 1, MAX_TIMER_MS),
    retry: retryPolicy(o.retry),
    ...(o.onCommit !== undefined ? { onCommit: o.onCommit as (cursor: number) => void } : {}),
    ...(signal !== undefined ? { signal } : {}),
    stopAtHead: o.stopAtHead === true,
    transientRecords: o.transientRecords === true,
  };
}

function retryPolicy(retry: unknown): RetryPolicy {
  if (retry !== undefined && (typeof retry !== 'object' || retry === null)) {
    throw new InvalidConsumerArgumentError(`retry must be an object, not ${String(retry)}`);
  }
  const r = (retry ?? {}) as Record<keyof RetryOptions, unknown>;
  const unknown = unknownOptionKey(r, RETRY_OPTION_KEYS);
  if (unknown !== undefined) throw new InvalidConsumerArgumentError(unknownOptionMessage('retry', unknown, RETRY_OPTION_KEYS));
  const maxAttempts = integer('retry.maxAttempts', r.maxAttempts, 5, 1);
  const initialDelayMs = integer('retry.initialDelayMs', r.initialDelayMs, 50, 0, MAX_TIMER_MS);
  const maxDelayMs = integer('retry.maxDelayMs', r.maxDelayMs, 5000, 0, MAX_TIMER_MS);
  return { maxAttempts, initialDelayMs: Math.min(initialDelayMs, maxDelayMs), maxDelayMs };
}

/** `v` (or `fallback` when undefined) as an integer in [min, max]. */
function integer(name: string, v: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : 'a non-negative integer') : `an integer in [${min}, ${max}]`;
    throw new InvalidConsumerArgumentError(`${name} must be ${range}${name.endsWith('Ms') ? ' (milliseconds)' : ''}, not ${describe(v)}`);
  }
  return v;
}

function isAbortSignal(v: unknown): v is AbortSignal {
  const s = v as { aborted?: unknown; addEventListener?: unknown; removeEventListener?: unknown } | null;
  return typeof s === 'object' && s !== null && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v === 'object' && v !== null ? Object.prototype.toString.call(v) : String(v);
}
