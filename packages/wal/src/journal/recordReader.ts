import {
  CorruptRecordError,
  InvalidArgumentError,
  NotRecordBoundaryError,
  OffsetOutOfRangeError,
  ioError,
  withTypedErrors,
  type CutReason,
} from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { checkRecordChecksums, readU32 } from '../format/record.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { hasErrno } from '../shared/errno.js';
import { FileWindow } from '../io/fileWindow.js';
import { scanSegment } from '../recovery/scanSegment.js';
import type { ChangeNotifier } from './changeNotifier.js';
import type { KnownBoundaries } from './knownBoundaries.js';
import { ReadAhead } from './readAhead.js';
import { SegmentManager, type Segment } from './segmentManager.js';

/**
 * A record as read back: its offset, its payload, and the offset of the next
 * record. `payload` and `blake3` are views into buffers shared by the records
 * of one read batch (up to 256 KiB): keeping one small record for a long
 * time keeps its chunk alive, so `slice()` what you store.
 */
export interface JournalRecord {
  offset: number;
  payload: Uint8Array;
  /** The stored BLAKE3 of the payload (verified on read): the record's content address. */
  blake3: Uint8Array;
  next: number;
}

export type { ReadFromOptions } from '../log/logReader.js';
import type { ReadFromOptions } from '../log/logReader.js';
/** What a reader sees of the log; a reader in another process refreshes it from disk. */
export interface LogView {
  earliest(): number;
  head(): number;
  /**
   * Re-reads the directory (readers in other processes). True when the head or the
   * earliest offset moved, or the view was rebuilt (the writer rolled back
   * bytes it had seen): a read that missed is worth trying again; always
   * false for a writer, whose view is never stale.
   */
  refresh(): boolean;
  /** Refreshes a reader's view if it is older than a moment (segments deleted by the writer). */
  refreshIfStale(): void;
  checkOpen(): void;
}

const BATCH_RECORDS = 256;
/** Records read in one batch share buffers of this size (a larger record gets its own). */
const COPY_CHUNK_BYTES = 256 * 1024;
const EMPTY = new Uint8Array(0);
const WINDOW_BYTES = 1024 * 1024;
/** Bounds of the single read `read` makes for a record of unknown size. */
const MIN_GUESS_BYTES = 1024;
const MAX_GUESS_BYTES = 64 * 1024;

/**
 * Reads records by offset, for the writer and for a reader in another
 * process alike: what differs between them (how the view refreshes, which
 * boundaries are remembered) comes in with the constructor. Every record is
 * validated (CRC32C and BLAKE3) before it is returned: a reader never hands
 * out bytes the log did not write. Sequential reads go through a window of
 * large reads per segment.
 */
export class RecordReader {
  /** Bytes read at once by `read` (the header and, usually, the whole record). */
  private guessBytes = MIN_GUESS_BYTES;
  private readonly readAhead: ReadAhead;

  constructor(
    private readonly io: FileIO,
    private readonly segments: SegmentManager,
    private readonly view: LogView,
    private readonly maxPayloadBytes: number,
    private readonly changes: ChangeNotifier,
    /** Boundaries handed out as `next` or found by a walk are noted here (the writer keeps them, a reader does not). */
    private readonly known: KnownBoundaries,
  ) {
    this.readAhead = new ReadAhead(io, maxPayloadBytes);
  }

  read(offset: number): JournalRecord | undefined {
    return withTypedErrors('reading', this.segments.dir, () => {
      this.view.checkOpen();
      checkOffset(offset);
      if (offset >= this.view.head() || offset < this.view.earliest()) this.view.refresh();
      else this.view.refreshIfStale();
      let record: JournalRecord | undefined;
      try {
        record = this.readOne(offset);
      } catch (err) {
        // a reader's view may hold bytes the writer has since rolled back:
        // look again before calling the offset wrong
        if (!(err instanceof NotRecordBoundaryError || err instanceof CorruptRecordError) || !this.view.refresh()) throw err;
        record = this.readOne(offset);
      }
      if (record) this.known.remember(record.next);
      return record;
    });
  }

  private readOne(offset: number): JournalRecord | undefined {
    const head = this.view.head();
    if (offset === head) return undefined;
    const idx = this.locate(offset);
    const seg = this.segments.segments[idx]!;
    const end = this.segments.endOf(idx, head);
    const fd = this.fdFor(seg, offset);
    const pos = SegmentManager.position(seg, offset);
    // at a segment's base (a record boundary whatever its bytes say) a record that does not decode is damage, not a bad offset
    const refuse = (reason: CutReason): Error =>
      offset === seg.base ? this.damageAt(seg, { position: pos, reason }) : (this.gapAt(seg, pos) ?? new NotRecordBoundaryError(offset));
    if (offset + RECORD_OVERHEAD > end) throw refuse('torn-header');
    // One pread for the usual record: header and payload together, sized by
    // the records read lately (bounded by the head); a longer record gets the
    // rest in a second read. The checks below are the same either way.
    const guess = Math.min(this.guessBytes, end - offset);
    let record = new Uint8Array(guess);
    const got = readFully(this.io, fd, record, 0, guess, pos);
    if (got < RECORD_OVERHEAD) throw refuse('torn-header');
    const n = readU32(record, 0);
    if (n > this.maxPayloadBytes) throw refuse('length-over-limit');
    if (offset + RECORD_OVERHEAD + n > end) throw refuse('torn-payload');
    const size = RECORD_OVERHEAD + n;
    if (size > got) {
      const whole = new Uint8Array(size);
      whole.set(record.subarray(0, got), 0);
      record = whole;
      let more: number;
      try {
        more = readFully(this.io, fd, record, got, size - got, pos + got);
      } catch (err) {
        throw ioError('reading', seg.path, err);
      }
      if (more < size - got) throw refuse('torn-payload');
    }
    // the next guess: a little over this record (records of a log are alike), never under a small floor
    this.guessBytes = Math.min(MAX_GUESS_BYTES, Math.max(MIN_GUESS_BYTES, size + (size >> 1)));
    const bad = checkRecordChecksums(record, 0, n);
    if (bad !== null) throw refuse(bad);
    return { offset, payload: record.subarray(RECORD_OVERHEAD, size), blake3: record.subarray(8, RECORD_OVERHEAD), next: offset + RECORD_OVERHEAD + n };
  }

  async *readFrom(offset: number, options: ReadFromOptions = {}): AsyncGenerator<JournalRecord, void, undefined> {
    checkOffset(offset);
    const { follow = false, signal } = options;
    let pos = offset;
    let first = true;
    for (;;) {
      if (signal?.aborted) return;
      this.view.checkOpen();
      if (pos >= this.view.head() || pos < this.view.earliest()) this.view.refresh();
      const head = this.view.head();
      if (pos === head) {
        if (!follow) return;
        await this.changes.wait(signal);
        continue;
      }
      const batch = withTypedErrors('reading', this.segments.dir, () => this.readBatch(pos, head, first));
      first = false;
      if (batch.length === 0) continue;
      this.known.remember(batch[batch.length - 1]!.next);
      for (const record of batch) {
        if (signal?.aborted) return;
        yield record;
      }
      pos = batch[batch.length - 1]!.next;
    }
  }

  /**
   * Up to `maxRecords` records from `offset` without waiting (empty at the
   * head). Consumers use it to hand a batch to a handler without an async
   * step per record.
   */
  readMany(offset: number, maxRecords: number, continuing = false): JournalRecord[] {
    return withTypedErrors('reading', this.segments.dir, () => this.readManyUntyped(offset, maxRecords, continuing));
  }

  /** `continuing`: `offset` is the `next` of a record read before, so records that do not decode there are damage (as in `readFrom`), not a bad offset. */
  private readManyUntyped(offset: number, maxRecords: number, continuing: boolean): JournalRecord[] {
    this.view.checkOpen();
    checkOffset(offset);
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) throw new InvalidArgumentError(`maxRecords must be a non-negative integer, not ${String(maxRecords)}`);
    if (offset >= this.view.head() || offset < this.view.earliest()) this.view.refresh();
    let out: JournalRecord[] = [];
    let pos = offset;
    while (out.length < maxRecords) {
      const head = this.view.head();
      if (pos === head) break;
      const batch = this.readBatch(pos, head, out.length === 0 && !continuing, maxRecords - out.length, maxRecords);
      if (batch.length === 0) break;
      if (out.length === 0) out = batch; // the usual case: one batch is the answer
      else for (const r of batch) out.push(r);
      pos = batch[batch.length - 1]!.next;
    }
    if (out.length > 0) this.known.remember(pos);
    return out;
  }

  /** Resolves once the head is beyond `offset`, or on abort. */
  async waitBeyond(offset: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.view.checkOpen();
      if (signal?.aborted) return;
      if (offset >= this.view.head()) this.view.refresh();
      if (this.view.head() > offset) return;
      await this.changes.wait(signal);
    }
  }

  /**
   * Counts the records in [from, to) by walking their length fields (no
   * checksums: this is for lag figures, not for reading data). Both must be
   * record boundaries with earliest <= from <= to <= head.
   */
  countRecords(from: number, to: number): number {
    return withTypedErrors('counting records in', this.segments.dir, () => {
      this.view.checkOpen();
      checkOffset(from);
      checkOffset(to);
      if (from > to) throw new InvalidArgumentError(`countRecords needs from <= to, not from ${from} and to ${to}`);
      if (to > this.view.head() || from < this.view.earliest()) this.view.refresh();
      const earliest = this.view.earliest();
      const head = this.view.head();
      if (from < earliest) throw new OffsetOutOfRangeError(from, earliest, head);
      if (to > head) throw new OffsetOutOfRangeError(to, earliest, head);
      return this.count(from, to, head);
    });
  }

  /**
   * The last record boundary at or before `offset` (the head when `offset` is
   * at or beyond it, -1 below the earliest retained record), found by walking
   * length fields from the highest boundary known in the offset's segment
   * (its base when none is). No checksums: the records below the head were
   * verified by recovery or by the writer; this answers "where do records
   * start", cheaply, for cursor validation.
   */
  boundaryAtOrBefore(offset: number): number {
    return withTypedErrors('walking records in', this.segments.dir, () => {
      this.view.checkOpen();
      checkOffset(offset);
      if (offset >= this.view.head() || offset < this.view.earliest()) this.view.refresh();
      const head = this.view.head();
      if (offset >= head) return head;
      if (offset < this.view.earliest()) return -1;
      const idx = this.locate(offset);
      const seg = this.segments.segments[idx]!;
      const end = this.segments.endOf(idx, head);
      let pos = this.known.startFor(seg.base, offset);
      const limit = SegmentManager.position(seg, end);
      const fd = this.fdFor(seg, pos);
      const window = (seg.window ??= new FileWindow(this.io, fd, limit, WINDOW_BYTES));
      window.limit = Math.max(window.limit, limit);
      for (;;) {
        const p = SegmentManager.position(seg, pos);
        if (!window.ensure(p, RECORD_OVERHEAD)) throw new NotRecordBoundaryError(pos);
        const next = pos + RECORD_OVERHEAD + readU32(window.buf, p - window.start);
        if (next > offset || next >= end) {
          const boundary = next === offset ? next : pos;
          this.known.remember(boundary);
          return boundary;
        }
        pos = next;
      }
    });
  }

  /**
   * Each pass starts below the end of its segment (or `to`) and every step
   * moves `pos` forward by at least a record header, so the walk ends.
   */
  private count(from: number, to: number, head: number): number {
    let count = 0;
    let pos = from;
    while (pos < to) {
      const idx = this.locate(pos);
      const seg = this.segments.segments[idx]!;
      const end = Math.min(to, this.segments.endOf(idx, head));
      const limit = SegmentManager.position(seg, end);
      const fd = this.fdFor(seg, pos);
      const window = (seg.window ??= new FileWindow(this.io, fd, limit, WINDOW_BYTES));
      window.limit = Math.max(window.limit, limit);
      while (pos < end) {
        const p = SegmentManager.position(seg, pos);
        if (!window.ensure(p, RECORD_OVERHEAD)) throw new NotRecordBoundaryError(pos);
        pos += RECORD_OVERHEAD + readU32(window.buf, p - window.start);
        count++;
      }
      // the walk stepped over `to` or over the end of the segment: it did
      // not start on a boundary, or `to` is not one
      if (pos > end) throw new NotRecordBoundaryError(end === to ? to : from);
    }
    return count;
  }

  /**
   * Up to `max` records from `pos`, all inside one segment and below `head`;
   * empty only when a refresh moved the head back to `pos`.
   */
  private readBatch(pos: number, head: number, first: boolean, max = BATCH_RECORDS, want = max): JournalRecord[] {
    this.view.refreshIfStale();
    let attempt = this.scanBatch(pos, Math.min(head, this.view.head()), max, want);
    // a reader's view may hold bytes the writer has since rolled back: look
    // again before calling the log corrupt
    if (attempt.batch.length === 0 && this.view.refresh()) attempt = this.scanBatch(pos, this.view.head(), max, want);
    const { batch, seg, failure } = attempt;
    if (batch.length === 0 && pos < this.view.head()) {
      // a segment's base is a record boundary whatever its bytes say: what
      // fails there is the log, not the caller's offset
      if (first && pos !== seg.base) throw this.gapAt(seg, failure.position) ?? new NotRecordBoundaryError(pos);
      throw this.damageAt(seg, failure);
    }
    return batch;
  }

  /**
   * The error for records that do not decode at `failure`. A sealed segment
   * whose file ends before the next segment's base is not torn: a segment
   * between them is missing (FORMAT.md: segments are contiguous), as
   * `verify` reports it.
   */
  private damageAt(seg: Segment, failure: { position: number; reason: CutReason }): CorruptRecordError {
    return (
      this.gapAt(seg, failure.position) ??
      new CorruptRecordError({ segment: seg.name, position: failure.position, offset: seg.base + failure.position - HEADER_SIZE, reason: failure.reason })
    );
  }

  /** The missing segment after `seg`, when reading stopped at `position`, at or past the end of its file, short of the next base. */
  private gapAt(seg: Segment, position: number): CorruptRecordError | undefined {
    const next = this.segments.segments[this.segments.segments.indexOf(seg) + 1];
    if (next === undefined) return undefined;
    const size = this.io.stat(seg.path)?.size;
    if (size === undefined || position < size || seg.base + size - HEADER_SIZE >= next.base) return undefined;
    const end = seg.base + size - HEADER_SIZE;
    return new CorruptRecordError(
      { segment: seg.name, position: size, offset: end, reason: 'segment-gap' },
      `${seg.name} ends at offset ${end} but the next segment, ${next.name}, starts at ${next.base}: the segment between them is missing`,
    );
  }

  /** `max` records at most; `want` is the batch size the caller reads in (the read-ahead reads that many). */
  private scanBatch(pos: number, head: number, max: number, want: number): { batch: JournalRecord[]; seg: Segment; failure: { position: number; reason: CutReason } } {
    const idx = this.locate(pos);
    const seg = this.segments.segments[idx]!;
    const end = this.segments.endOf(idx, head);
    const fd = this.fdFor(seg, pos);
    const limit = SegmentManager.position(seg, end);
    const batch: JournalRecord[] = [];
    const start = SegmentManager.position(seg, pos);
    // Records are copied whole (header, digest, payload) out of the window
    // (which is reused) into shared chunks: one allocation per chunk instead
    // of one per record, the reader's largest cost after the checksums.
    let chunk = EMPTY;
    let used = 0;
    const add = (p: number, n: number, buf: Uint8Array, i: number): boolean => {
      const size = RECORD_OVERHEAD + n;
      if (used + size > chunk.length) {
        chunk = new Uint8Array(Math.max(size, COPY_CHUNK_BYTES));
        used = 0;
      }
      chunk.set(buf.subarray(i, i + size), used);
      batch.push(recordIn(chunk, used, n, seg.base + p - HEADER_SIZE));
      used += size;
      return batch.length < max;
    };

    // records the worker verified while the caller was busy with the last batch
    const ahead = this.readAhead.take(seg, start, limit);
    if (ahead) {
      const { bytes } = ahead;
      const shift = ahead.start; // bytes[i] is the file's byte at position i + shift
      let p = start;
      while (p < ahead.end && batch.length < max) {
        // The records from p that fit in the current chunk and in the batch
        // go over in one copy, headers included (a view and a copy per
        // record cost more than the bytes); a larger record gets a chunk of
        // its own, so at least one record moves on each pass.
        const firstSize = RECORD_OVERHEAD + readU32(bytes, p - shift);
        if (used + firstSize > chunk.length) {
          chunk = new Uint8Array(Math.max(firstSize, COPY_CHUNK_BYTES));
          used = 0;
        }
        let q = p;
        for (let count = batch.length; q < ahead.end && count < max; count++) {
          const size = RECORD_OVERHEAD + readU32(bytes, q - shift);
          if (used + (q - p) + size > chunk.length) break;
          q += size;
        }
        chunk.set(bytes.subarray(p - shift, q - shift), used);
        for (let at = used, end = used + (q - p); at < end; ) {
          const n = readU32(chunk, at);
          batch.push(recordIn(chunk, at, n, seg.base + p + (at - used) - HEADER_SIZE));
          at += RECORD_OVERHEAD + n;
        }
        used += q - p;
        p = q;
      }
      this.readAhead.sized(p - start, batch.length);
      this.readAhead.start(seg, fd, p, limit, want);
      return { batch, seg, failure: { position: p, reason: 'torn-header' } };
    }

    const window = (seg.window ??= new FileWindow(this.io, fd, limit, WINDOW_BYTES));
    window.limit = limit;
    const scan = scanSegment(this.io, fd, { maxPayloadBytes: this.maxPayloadBytes, start, size: limit, window, visit: add });
    if (batch.length > 0) {
      this.readAhead.sized(scan.end - start, batch.length);
      // a full batch: the caller is likely to read on from here
      if (scan.stopped) this.readAhead.start(seg, fd, scan.end, limit, want);
    }
    return { batch, seg, failure: scan.failure ?? { position: start, reason: 'torn-header' } };
  }

  /**
   * The segment's read descriptor. A reader's view may be behind
   * the writer's cleanup: a segment file that is gone means the offset was
   * deleted, which is an out-of-range error, not an I/O failure.
   */
  private fdFor(seg: Segment, offset: number): number {
    try {
      return this.segments.fdOf(seg);
    } catch (err) {
      if (!hasErrno(err, 'ENOENT')) throw err; // the WAL_IO error of the open, wrapping its errno
      this.view.refresh();
      throw new OffsetOutOfRangeError(offset, this.view.earliest(), this.view.head());
    }
  }

  /** Index of the segment of `offset`, or OffsetOutOfRangeError. */
  private locate(offset: number): number {
    const earliest = this.view.earliest();
    const head = this.view.head();
    if (offset < earliest || offset > head) throw new OffsetOutOfRangeError(offset, earliest, head);
    const idx = this.segments.indexOf(offset);
    if (idx < 0) throw new OffsetOutOfRangeError(offset, earliest, head);
    return idx;
  }
}

/**
 * The record copied whole into `chunk` at `at`, payload of `n` bytes, at
 * global `offset`. Chunks are allocated by the reader (byteOffset 0); the
 * views are made with the constructor, which costs less than subarray().
 */
function recordIn(chunk: Uint8Array, at: number, n: number, offset: number): JournalRecord {
  const { buffer } = chunk;
  return { offset, payload: new Uint8Array(buffer, at + RECORD_OVERHEAD, n), blake3: new Uint8Array(buffer, at + 8, 32), next: offset + RECORD_OVERHEAD + n };
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(`an offset must be a non-negative safe integer, not ${String(offset)}`);
  }
}
