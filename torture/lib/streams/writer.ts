import { isStoreError, StoreErrorCodes, VersionConflictError, type AppendResult, type EventStore, type ExpectedVersion } from '@episteme/store';
import { codeOf } from '@episteme/wal/internals';
import type { Rng } from '../rng.js';
import { eventsOf, type CommitSpec } from './model.js';

/**
 * What a stream writer reports, in the order things happen. The sim session
 * feeds these to its ledger directly; the child process prints them as
 * lines (before the call for `attempt`, after it resolved for the others),
 * so the parent's record never holds an acknowledgement that did not happen.
 */
export interface StreamReport {
  attempt(spec: CommitSpec, retry: boolean): void;
  acked(spec: CommitSpec, result: AppendResult, retry: boolean): void;
  /** A typed conflict: nothing written. `actual` as the error says it. */
  conflict(spec: CommitSpec, actual: number, retry: boolean): void;
  /** Rejected without a conflict (write failed, failed state, closed): the outcome stays unknown to the writer. */
  failed(spec: CommitSpec, code: string): void;
  /** Something the store must never do, seen by the writer itself. */
  wrong(message: string): void;
  /**
   * A retry (same ids, same content) refused as STORE_DUPLICATE_EVENT_ID:
   * wrong unless the store could not read the log at that moment (the
   * session knows whether its disk was failing), see checkRetry.
   */
  duplicateOnRetry(spec: CommitSpec, message: string): void;
}

export interface StreamWriterPlan {
  /** Commit tags start with this (session and cycle), so they are unique in a session. */
  prefix: string;
  tasks: number;
  streamsPerTask: number;
  commitsPerTask: number;
  maxPad: number;
  /** Attempts of earlier cycles whose outcome was never seen: retried first, with the same ids. */
  retries: CommitSpec[];
}

const GIVE_UP = new Set([StoreErrorCodes.Closed as string, 'WAL_FAILED_STATE', 'WAL_CLOSED']);

/**
 * Stream writer tasks on one store: each task owns a few streams (so its own
 * view of their versions is exact, and a conflict is either provoked on
 * purpose or a store bug) and appends commits of 1-50 events with an
 * expected version taken from its view, 'no_stream', 'any', or a stale
 * number. Stops at `stop()` or when the store is unusable.
 */
export async function runStreamWriters(store: EventStore, rng: Rng, plan: StreamWriterPlan, report: StreamReport, stopped: () => boolean): Promise<void> {
  // retries first, in the order attempted: a stream's pending attempt precedes its later ones
  const retried = new Set<string>();
  for (const spec of plan.retries) {
    if (stopped()) return;
    const ok = await attempt(store, spec, true, report);
    retried.add(spec.stream);
    if (ok === 'give-up') return;
  }
  await Promise.all(Array.from({ length: plan.tasks }, (_, t) => task(store, rng.fork(`task${t}`), plan, t, report, stopped)));
}

type Outcome = 'acked' | 'conflict' | 'failed' | 'give-up';

async function attempt(store: EventStore, spec: CommitSpec, retry: boolean, report: StreamReport, views?: Map<string, number>): Promise<Outcome> {
  report.attempt(spec, retry);
  try {
    const result = await store.appendToStream(spec.stream, eventsOf(spec), { expectedVersion: spec.expected });
    report.acked(spec, result, retry);
    views?.set(spec.stream, result.nextExpectedVersion);
    return 'acked';
  } catch (err) {
    if (err instanceof VersionConflictError) {
      if (typeof spec.expected === 'number' && spec.expected === err.actual) report.wrong(`conflict on ${spec.stream} although expected ${spec.expected} equals actual ${err.actual}`);
      if (spec.expected === 'no_stream' && err.actual === 0) report.wrong(`conflict on ${spec.stream} with no_stream although actual is 0`);
      if (spec.expected === 'stream_exists' && err.actual > 0) report.wrong(`conflict on ${spec.stream} with stream_exists although actual is ${err.actual}`);
      if (spec.expected === 'any') report.wrong(`conflict on ${spec.stream} with expected version any`);
      report.conflict(spec, err.actual, retry);
      views?.set(spec.stream, err.actual);
      return 'conflict';
    }
    const code = codeOf(err) ?? 'UNTYPED';
    if (code === StoreErrorCodes.DuplicateEventId && retry) {
      report.duplicateOnRetry(spec, err instanceof Error ? err.message : String(err));
      report.failed(spec, code);
      return 'give-up';
    }
    if (isStoreError(err) && code !== StoreErrorCodes.Closed && code !== StoreErrorCodes.CommitAborted) {
      report.wrong(`append to ${spec.stream} rejected with ${code}: ${err instanceof Error ? err.message : String(err)}`);
    }
    report.failed(spec, code);
    return GIVE_UP.has(code) ? 'give-up' : 'failed';
  }
}

async function task(store: EventStore, rng: Rng, plan: StreamWriterPlan, t: number, report: StreamReport, stopped: () => boolean): Promise<void> {
  const streams = Array.from({ length: plan.streamsPerTask }, (_, j) => `t${t}-s${j}`);
  const views = new Map<string, number>();
  try {
    for (const s of streams) views.set(s, (await store.readStream(s, { maxCount: 1 })).currentVersion);
  } catch {
    return; // the store failed before this task began: nothing of it to check
  }
  for (let i = 0; i < plan.commitsPerTask && !stopped(); i++) {
    const stream = rng.pick(streams);
    const view = views.get(stream)!;
    const r = rng.next();
    // mostly the writer's own view; some 'any', 'no_stream' and stale numbers (conflicts on purpose)
    const expected: ExpectedVersion =
      r < 0.6 ? view : r < 0.75 ? 'any' : r < 0.85 ? (view === 0 ? 'no_stream' : rng.chance(0.3) ? 'no_stream' : view) : r < 0.92 ? 'stream_exists' : Math.max(0, view - rng.int(1, 3));
    const count = rng.chance(0.3) ? 1 : rng.int(1, 50);
    const spec: CommitSpec = { tag: `${plan.prefix}.t${t}.n${i}`, stream, count, expected, pad: rng.int(0, plan.maxPad) };
    let outcome = await attempt(store, spec, false, report, views);
    if (outcome === 'failed' && !stopped()) {
      // the outcome is unknown to us: the same commit again, same ids (alreadyAppended or appended once)
      outcome = await attempt(store, spec, true, report, views);
    }
    if (outcome === 'give-up' || outcome === 'failed') return;
    if (outcome === 'acked' && rng.chance(0.05)) {
      // a retry after a success, with the first attempt's expected version: must be alreadyAppended
      const again = await attempt(store, spec, true, report);
      if (again === 'give-up') return;
    }
    if (rng.chance(0.3)) await new Promise((res) => setImmediate(res));
  }
}
