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
 * The new assertions asked for while the current job of the event loop
 * runs (its microtasks included), appended together with one `assertEach`
 * once it is done: when a group commit acknowledges the appends of many
 * callers, each of them asks for its next, and these go to the store in
 * one call (one journal write) instead of one each. Each caller gets what
 * `assertPrepared` would have given it: `assertEach` decides each commit as
 * `appendToStream` would in call order, and a batch it refuses as a whole
 * (a bad argument anywhere in it) is appended one by one instead, so that
 * each gets its own outcome.
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
    const batch = this.waiting!;
    this.waiting = undefined;
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
