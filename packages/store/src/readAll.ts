import type { Journal } from '@episteme/wal';
import { visitRecords } from '@episteme/wal/internals';
import { decodeRecordInto } from './recordedEvents.js';
import type { RecordedEvent } from './types.js';
import type { Upcasters } from './upcasting.js';

/** Records read at once (the journal's own batch size, which its read-ahead is sized for). */
const BATCH_RECORDS = 256;

/**
 * The events of a store's log from a global position to the head at the
 * first `next()`, in global order: what `readAll` returns. Records are read
 * in batches (visitRecords, continuing from each batch's end, which reports
 * damage as readFrom does), every record checked by the journal and decoded
 * where it was read, and a batch's events are decoded at once; `next()` then hands them out
 * one by one with one settled promise each. An async generator would cost
 * several promise steps per event (its queue, the `yield`'s await), the
 * largest part of a catch-up after the checksums and JSON.parse.
 *
 * Damage keeps its place: the events of the records before a record that
 * does not decode are handed out first, then `next()` rejects with its
 * error, as an event-by-event reader would meet them.
 */
export class AllEvents implements AsyncIterableIterator<RecordedEvent> {
  private events: RecordedEvent[] = [];
  private i = 0;
  /** The next record to read; -1 before the first `next()`. */
  private pos = -1;
  private end = 0;
  private from = 0;
  private done = false;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly upcasters: Upcasters,
    /** Checks the store and the arguments at the first `next()` (as the generator did); returns the global position to start from. */
    private readonly begin: () => number,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<RecordedEvent> {
    return this;
  }

  next(): Promise<IteratorResult<RecordedEvent>> {
    if (this.i < this.events.length) return Promise.resolve({ value: this.events[this.i++]!, done: false });
    try {
      while (!this.done && this.i >= this.events.length) this.fill();
    } catch (error) {
      this.finish();
      return Promise.reject(error);
    }
    if (this.i < this.events.length) return Promise.resolve({ value: this.events[this.i++]!, done: false });
    const failure = this.failure;
    this.finish();
    return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure.error);
  }

  return(): Promise<IteratorResult<RecordedEvent>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  private finish(): void {
    this.done = true;
    this.failure = undefined;
    this.events = [];
    this.i = 0;
  }

  /** Decodes the next batch of records into `events` (none: done). */
  private fill(): void {
    if (this.failure !== undefined) {
      this.done = true;
      return;
    }
    const journal = this.journal;
    let first = false;
    if (this.pos < 0) {
      this.from = this.begin();
      this.end = journal.head;
      if (this.from >= this.end) {
        this.done = true;
        return;
      }
      // a global position is a commit's log position plus the event's index in it: start at that commit
      this.pos = this.from <= journal.earliest ? journal.earliest : journal.boundaryAtOrBefore(this.from);
      first = true;
    }
    this.events = [];
    this.i = 0;
    if (this.pos >= this.end) {
      this.done = true;
      return;
    }
    const events = this.events;
    const { end, upcasters } = this;
    let next = this.pos;
    try {
      // each record decoded where the journal read it (no copy, no record object)
      next = visitRecords(journal, this.pos, BATCH_RECORDS, !first, (bytes, at, len, offset) => {
        if (offset < end) decodeRecordInto(bytes, at, len, offset, upcasters, 1, Number.MAX_SAFE_INTEGER, events);
        else this.done = true; // past the head at the first next(): not this reading's
      });
    } catch (error) {
      // the events before the damage first, then the error
      this.failure = { error };
    }
    if (next === this.pos && this.failure === undefined) this.done = true; // the head moved back (a reader's view): nothing more to read
    this.pos = next;
    if (first) while (this.i < this.events.length && this.events[this.i]!.globalPosition < this.from) this.i++;
  }
}
