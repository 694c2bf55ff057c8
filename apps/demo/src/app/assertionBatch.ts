import type { Appended } from './assertionService.js';
import type { PreparedAssertion } from '../domain/prepare.js';

interface Waiting {
  prepared: PreparedAssertion;
  resolve: (a: Appended) => void;
  reject: (err: unknown) => void;
}

/** What a batch is appended with: AssertionService's own two paths. */
export interface BatchAppender {
  /** Many at once, one outcome each (`assertEach`); rejects as a whole only on a bad argument anywhere. */
  assertEach(prepared: readonly PreparedAssertion[]): Promise<PromiseSettledResult<Appended>[]>;
  /** One alone (`assertPrepared`). */
  assertPrepared(prepared: PreparedAssertion): Promise<Appended>;
}

/**
 * At most this many assertions per `assertEach`. The journal overlaps a
 * sync with the next write by cutting what is queued into two halves, and
 * it can only cut between appends: the 64 next assertions of 64 callers in
 * one call would be one indivisible write, all of them would wait on each
 * sync, and the thread would idle through it (event loop busy 64-70% of the
 * demo's append phase, against 90-98% in chunks of 32).
 */
const CHUNK = 32;

/**
 * The new assertions asked for while the current job of the event loop
 * runs (its microtasks included), appended together with one `assertEach`
 * once it is done: when a group commit acknowledges the appends of many
 * callers, each of them asks for its next, and these go to the store in
 * one call (one journal write) instead of one each. Each caller gets what
 * `assertPrepared` would have given it: `assertEach` decides each commit as
 * `appendToStream` would in call order, and a batch it refuses as a whole
 * (a bad argument anywhere in it, a closed store) is appended one by one
 * instead, so that each gets its own outcome: the store refuses a whole
 * call only before it reserved or wrote anything of it, so nothing is
 * appended twice. Many at once go in chunks of CHUNK, in order.
 */
export class AssertionBatch {
  private waiting: Waiting[] | undefined;

  constructor(private readonly appender: BatchAppender) {}

  add(prepared: PreparedAssertion): Promise<Appended> {
    return new Promise<Appended>((resolve, reject) => {
      if (this.waiting === undefined) {
        this.waiting = [];
        queueMicrotask(() => this.flush());
      }
      this.waiting.push({ prepared, resolve, reject });
    });
  }

  private flush(): void {
    const waiting = this.waiting!;
    this.waiting = undefined;
    for (let i = 0; i < waiting.length; i += CHUNK) this.append(waiting.length <= CHUNK ? waiting : waiting.slice(i, i + CHUNK));
  }

  private append(batch: Waiting[]): void {
    if (batch.length === 1) {
      const only = batch[0]!;
      this.appender.assertPrepared(only.prepared).then(only.resolve, only.reject);
      return;
    }
    this.appender.assertEach(batch.map((w) => w.prepared)).then(
      (outcomes) => {
        for (let i = 0; i < batch.length; i++) {
          const o = outcomes[i]!;
          if (o.status === 'fulfilled') batch[i]!.resolve(o.value);
          else batch[i]!.reject(o.reason);
        }
      },
      () => {
        for (const w of batch) this.appender.assertPrepared(w.prepared).then(w.resolve, w.reject);
      },
    );
  }
}
