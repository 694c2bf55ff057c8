import { checksums } from '../checksum/index.js';
import { ClosedError, InvalidArgumentError, OffsetOutOfRangeError, RecordTooLargeError } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../format/constants.js';
import type { Appended } from '../log/appended.js';
import type { CursorState, CursorStore } from '../log/cursorStore.js';
import type { LogReader, LogRecord, ReadFromOptions, Retention } from '../log/logReader.js';

export interface InMemoryLogOptions {
  /** The log's name (the key of "running here" bookkeeping). Default: `memory:<n>`, unique in the process. */
  location?: string;
  /** Records per unit of retention, as a segment is for a journal (default 8). */
  chunkRecords?: number;
  /** The largest payload taken (default: the journal's default, 16 MiB). */
  maxPayloadBytes?: number;
}

interface Stored {
  payload: Uint8Array;
  blake3: Uint8Array;
}

/** Records handed out by one step of `readFrom`: what a journal's read batch is. */
const READ_BATCH = 256;
let logs = 0;

/**
 * A log in memory, for tests of what reads a log (consumers, projections,
 * an app) and as the proof that they need nothing of the journal but its
 * interfaces. Positions are record sequence numbers from 0 (`next` is
 * `offset + 1`), not byte offsets: code that does arithmetic on positions
 * fails against it. Misuse gets the journal's typed errors (out of range,
 * invalid argument, closed). With dense positions every position in
 * [earliest, head] starts a record, so WAL_NOT_RECORD_BOUNDARY never arises.
 *
 * Appends are visible to readers once published (a microtask after the
 * call, in call order) and resolve right after, as a journal's do once
 * synced. Retention drops whole chunks of `chunkRecords` records, never the
 * one holding the last record, as a journal drops whole segments and never
 * the active one. `truncatedAt` is settable to stand for a recovery cut.
 */
export class InMemoryLog implements LogReader, Retention {
  readonly location: string;
  readonly chunkRecords: number;
  /** Where a (simulated) recovery cut the log; a test sets it. */
  truncatedAt: number | undefined = undefined;
  /** Cursors in memory, for a ConsumerRegistry over this log. */
  readonly cursors: InMemoryCursorStore = new InMemoryCursorStore();

  private readonly maxPayloadBytes: number;
  /** records[i] is the record at position `first + i`. */
  private records: Stored[] = [];
  private first = 0;
  /** Position the next append takes: ahead of `head` while appends wait to be published. */
  private reserved = 0;
  private waiters = new Set<() => void>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: InMemoryLogOptions = {}) {
    const { location = `memory:${++logs}`, chunkRecords = 8, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES } = options;
    if (typeof location !== 'string' || location.length === 0) throw new InvalidArgumentError('location must be a non-empty string');
    positiveInteger('chunkRecords', chunkRecords);
    positiveInteger('maxPayloadBytes', maxPayloadBytes);
    this.location = location;
    this.chunkRecords = chunkRecords;
    this.maxPayloadBytes = maxPayloadBytes;
  }

  get head(): number {
    return this.first + this.records.length;
  }

  get earliest(): number {
    return this.first;
  }

  append(payload: Uint8Array): Promise<Appended> {
    return this.appendBatch([payload]).then((appended) => appended[0]!);
  }

  /** All or nothing: one bad payload and none is appended. */
  async appendBatch(payloads: Uint8Array[]): Promise<Appended[]> {
    if (!Array.isArray(payloads)) throw new InvalidArgumentError('appendBatch takes an array of payloads');
    if (this.closed) throw new ClosedError();
    if (payloads.length === 0) return [];
    for (const p of payloads) {
      if (!(p instanceof Uint8Array)) throw new InvalidArgumentError('a payload must be a Uint8Array (or Buffer)');
      if (p.length > this.maxPayloadBytes) throw new RecordTooLargeError(p.length, this.maxPayloadBytes);
    }
    // copied now: the caller may reuse its buffers once append returns
    const stored = payloads.map((p) => {
      const payload = new Uint8Array(p);
      const blake3 = new Uint8Array(32);
      checksums().blake3Into(payload, 0, payload.length, blake3, 0);
      return { payload, blake3 };
    });
    const offset = this.reserved;
    this.reserved += stored.length;
    // published a turn later, in call order: a reader never sees a record before its append could resolve
    await Promise.resolve();
    for (const s of stored) this.records.push(s);
    this.wake();
    return stored.map((s, i) => ({ offset: offset + i, next: offset + i + 1, blake3: s.blake3.slice() }));
  }

  read(offset: number): LogRecord | undefined {
    this.checkOpen();
    checkOffset(offset);
    if (offset === this.head) return undefined;
    this.checkRange(offset);
    return this.recordAt(offset);
  }

  readMany(offset: number, maxRecords: number): LogRecord[] {
    this.checkOpen();
    checkOffset(offset);
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) throw new InvalidArgumentError(`maxRecords must be a non-negative integer, not ${String(maxRecords)}`);
    if (offset === this.head) return [];
    this.checkRange(offset);
    return this.slice(offset, maxRecords);
  }

  async *readFrom(offset: number, options: ReadFromOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
    checkOffset(offset);
    const { follow = false, signal } = options;
    let pos = offset;
    for (;;) {
      if (signal?.aborted) return;
      this.checkOpen();
      if (pos === this.head) {
        if (!follow) return;
        await this.changed(signal);
        continue;
      }
      this.checkRange(pos);
      const batch = this.slice(pos, READ_BATCH);
      for (const record of batch) {
        if (signal?.aborted) return;
        yield record;
      }
      pos = batch[batch.length - 1]!.next;
    }
  }

  async waitBeyond(offset: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.checkOpen();
      if (signal?.aborted) return;
      if (this.head > offset) return;
      await this.changed(signal);
    }
  }

  /** Every position in [earliest, head] is a boundary: `offset` itself, the head beyond it, -1 below earliest. */
  boundaryAtOrBefore(offset: number): number {
    this.checkOpen();
    checkOffset(offset);
    if (offset >= this.head) return this.head;
    if (offset < this.first) return -1;
    return offset;
  }

  countRecords(from: number, to: number = this.head): number {
    this.checkOpen();
    checkOffset(from);
    checkOffset(to);
    if (from > to) throw new InvalidArgumentError(`countRecords needs from <= to, not from ${from} and to ${to}`);
    if (from < this.first) throw new OffsetOutOfRangeError(from, this.first, this.head);
    if (to > this.head) throw new OffsetOutOfRangeError(to, this.first, this.head);
    return to - from;
  }

  /** Nothing to re-read (this handle is the log); refused once closed, as a journal's is. */
  refresh(): void {
    this.checkOpen();
  }

  /** Memory is as durable as it gets; refused once closed, as a journal's sync is. */
  makeDurable(): Promise<void> {
    return this.closed ? Promise.reject(new ClosedError()) : Promise.resolve();
  }

  /**
   * Drops the chunks lying wholly below `offset`, oldest first, never the
   * one holding the last record. Returns their names (`chunk-<base>`).
   */
  deleteBelow(offset: number): string[] {
    this.checkOpen();
    checkOffset(offset);
    const limit = Math.min(offset, this.head);
    const last = this.head === 0 ? 0 : this.chunkBase(this.head - 1);
    const deleted: string[] = [];
    // earliest is always a chunk's base: deletion goes by whole chunks from 0
    while (this.first < last && this.first + this.chunkRecords <= limit) {
      deleted.push(`chunk-${this.first}`);
      this.records.splice(0, this.chunkRecords);
      this.first += this.chunkRecords;
    }
    return deleted;
  }

  /** Idempotent; readers waiting at the head wake up to a ClosedError. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.wake();
      this.closing = Promise.resolve();
    }
    return this.closing;
  }

  private chunkBase(position: number): number {
    return position - (position % this.chunkRecords);
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError();
  }

  private checkRange(offset: number): void {
    if (offset < this.first || offset > this.head) throw new OffsetOutOfRangeError(offset, this.first, this.head);
  }

  private slice(offset: number, max: number): LogRecord[] {
    const end = Math.min(this.head, offset + max);
    const out: LogRecord[] = [];
    for (let pos = offset; pos < end; pos++) out.push(this.recordAt(pos));
    return out;
  }

  /** A copy: what a reader does with it never changes the log. */
  private recordAt(offset: number): LogRecord {
    const s = this.records[offset - this.first]!;
    return { offset, next: offset + 1, payload: s.payload.slice(), blake3: s.blake3.slice() };
  }

  private changed(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = new Set();
    for (const done of waiting) done();
  }
}

/**
 * Consumer cursors in memory: every commit is durable at once, so the floor
 * (what retention may trust) is the cursor itself. States are copied in and
 * out, as a file store's are.
 */
export class InMemoryCursorStore implements CursorStore {
  private readonly states = new Map<string, CursorState>();

  read(name: string): CursorState | undefined {
    const state = this.states.get(name);
    return state && { ...state };
  }

  write(state: CursorState): void {
    this.put(state);
  }

  /** Not through `write`: each commit is one store call, as a test that counts them expects. */
  async writeAsync(state: CursorState): Promise<void> {
    this.put(state);
  }

  readFloor(name: string): number | undefined {
    return this.states.get(name)?.cursor;
  }

  private put(state: CursorState): void {
    this.states.set(state.name, { ...state });
  }

  remove(name: string): boolean {
    return this.states.delete(name);
  }

  names(): string[] {
    return [...this.states.keys()].sort();
  }
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(`an offset must be a non-negative safe integer, not ${String(offset)}`);
  }
}

function positiveInteger(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, not ${String(v)}`);
}
