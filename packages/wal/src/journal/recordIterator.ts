import type { JournalRecord } from './recordReader.js';

/**
 * The next batch of records from where the last one ended: records, `'wait'`
 * (at the head, following: `wait` resolves when it may have moved), or
 * `'end'`.
 */
export interface BatchSource {
  nextBatch(): JournalRecord[] | 'wait' | 'end';
  wait(): Promise<void>;
  readonly signal: AbortSignal | undefined;
}

const DONE: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });

/**
 * `readFrom`'s async iterator, written out: an async generator costs
 * several promise steps per `yield` (most of a sequential reader's time at
 * 256 B records); this one hands out a batch's records with one settled
 * promise each and reads the next batch when one is used up. It behaves as
 * the generator did: calls are served in order, an error ends it, `return`
 * ends it, and an abort ends it before the next record.
 */
export class RecordIterator implements AsyncGenerator<JournalRecord, void, undefined> {
  private batch: JournalRecord[] = [];
  private at = 0;
  private finished = false;
  /** The call in progress when it waits (following at the head): later calls queue behind it. */
  private busy: Promise<unknown> | undefined;

  constructor(private readonly source: BatchSource) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<JournalRecord, void>> {
    if (this.busy) return this.queued(() => this.next());
    if (this.finished) return Promise.resolve(DONE);
    if (this.source.signal?.aborted) return this.end();
    if (this.at < this.batch.length) return Promise.resolve({ done: false, value: this.batch[this.at++]! });
    try {
      for (;;) {
        const got = this.source.nextBatch();
        if (got === 'end') return this.end();
        if (got === 'wait') return this.waitThenNext();
        if (got.length === 0) continue;
        this.batch = got;
        this.at = 1;
        return Promise.resolve({ done: false, value: got[0]! });
      }
    } catch (err) {
      this.finish();
      return Promise.reject(err);
    }
  }

  return(): Promise<IteratorResult<JournalRecord, void>> {
    if (this.busy) return this.queued(() => this.return());
    return this.end();
  }

  throw(err: unknown): Promise<IteratorResult<JournalRecord, void>> {
    if (this.busy) return this.queued(() => this.throw(err));
    this.finish();
    return Promise.reject(err);
  }

  private waitThenNext(): Promise<IteratorResult<JournalRecord, void>> {
    const call = this.source.wait().then(
      () => {
        this.busy = undefined;
        return this.next();
      },
      (err: unknown) => {
        this.busy = undefined;
        this.finish();
        throw err;
      },
    );
    this.busy = call;
    return call;
  }

  private queued(call: () => Promise<IteratorResult<JournalRecord, void>>): Promise<IteratorResult<JournalRecord, void>> {
    const after = this.busy!.then(call, call);
    this.busy = after;
    void after.then(
      () => {
        if (this.busy === after) this.busy = undefined;
      },
      () => {
        if (this.busy === after) this.busy = undefined;
      },
    );
    return after;
  }

  private end(): Promise<IteratorResult<JournalRecord, void>> {
    this.finish();
    return Promise.resolve(DONE);
  }

  private finish(): void {
    this.finished = true;
    this.batch = [];
    this.at = 0;
  }
}
