import { checksums } from '../checksum/index.js';
import { InvalidArgumentError, NotRecordBoundaryError, withTypedErrors, type CutReason } from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { readU32 } from '../format/record.js';
import type { FileIO } from '../io/fileIO.js';
import { FileWindow } from '../io/fileWindow.js';
import { scanSegment } from '../recovery/scanSegment.js';
import type { ChangeNotifier } from './changeNotifier.js';
import type { KnownBoundaries } from './knownBoundaries.js';
import { LengthWalks } from './lengthWalks.js';
import { RandomReads, type RecordBytesVisitor } from './randomReads.js';
import { ReadAhead, type VerifiedRun } from './readAhead.js';
import { CHUNK_BYTES, newChunkScratch, readChunked, scratchOf, type ChunkScratch } from './recordChunks.js';
import { RecordIterator } from './recordIterator.js';
import { checkOffset, SegmentAccess, type LogView } from './segmentAccess.js';
import { SegmentManager, type Segment } from './segmentManager.js';

/**
 * A record as read back: its offset, its payload, and the offset of the next
 * record. `payload` and `blake3` are views into buffers shared by the records
 * of one read batch (up to 124 KiB): keeping one small record for a long
 * time keeps its chunk alive, so `slice()` what you store.
 */
export interface JournalRecord {
  offset: number;
  payload: Uint8Array;
  /** The stored BLAKE3 of the payload (covered by the record's CRC32C; recomputed on read with verifyOnRead: 'full'): the record's content address. */
  blake3: Uint8Array;
  next: number;
}

export type { ReadFromOptions, ReadManyOptions } from '../log/logReader.js';
import type { ReadFromOptions, ReadManyOptions, TransientReadBuffer } from '../log/logReader.js';
import { checkOptionKeys } from '../optionKeys.js';
export type { LogView } from './segmentAccess.js';
export type { RecordBytesVisitor } from './randomReads.js';

const BATCH_RECORDS = 256;
/** The keys readFrom and readMany take, each listed once (the compiler checks). */
const READ_FROM: Record<keyof ReadFromOptions, true> = { follow: true, signal: true, transient: true };
const READ_MANY: Record<keyof ReadManyOptions, true> = { transient: true };
const READ_FROM_KEYS: readonly string[] = Object.keys(READ_FROM);
export const READ_MANY_KEYS: readonly string[] = Object.keys(READ_MANY);
/**
 * Record bytes a `readMany` returns at most per call (and at least one
 * record), as a transient one returns at most its buffer: a batch the caller
 * may keep is fresh memory, and one that lives through a young-generation
 * collection is copied and then promoted, with its chunks, to be freed only by a
 * full collection. Measured on 4 KiB records (bench README, issue 24):
 * `readMany(n)` loops cost 1.3-1.4 µs of CPU per record up to 1,024
 * records (4 MiB) a call, 1.8 at 2,048, 2.7 at 4,096.
 */
const READ_MANY_BYTES = 4 * 1024 * 1024;
/** Records read in one batch share buffers of this size (a larger record gets its own): the chunked reads' bound. */
const COPY_CHUNK_BYTES = CHUNK_BYTES;
const EMPTY = new Uint8Array(0);
const WINDOW_BYTES = 1024 * 1024;

/**
 * Reads records by offset, for the writer and for a reader in another
 * process alike: what differs between them (how the view refreshes, which
 * boundaries are remembered) comes in with the constructor. Every record is
 * checked before it is returned (its CRC32C, which covers every other byte
 * of it, and its BLAKE3 with verifyOnRead: 'full'): a reader never hands out
 * damaged bytes. Sequential reads (here) go through a
 * window of large reads per segment and a read-ahead; reads by offset are
 * RandomReads', walks over length fields LengthWalks'.
 */
export class RecordReader {
  private readonly readAhead: ReadAhead;
  private readonly access: SegmentAccess;
  private readonly random: RandomReads;
  private readonly walks: LengthWalks;
  /** The buffer transient `readMany` calls read into (one per handle: each such call reuses it). */
  private readonly scratch = newChunkScratch();
  /** Transient readers' read-aheads (verifyOnRead 'crc'), by the buffer they read into. */
  private readonly transientReadAheads = new WeakMap<ChunkScratch, ReadAhead>();

  constructor(
    private readonly io: FileIO,
    private readonly segments: SegmentManager,
    private readonly view: LogView,
    private readonly maxPayloadBytes: number,
    /** Check each record's BLAKE3 too (verifyOnRead: 'full'), not only its CRC32C. */
    private readonly fullChecks: boolean,
    private readonly changes: ChangeNotifier,
    /** Boundaries handed out as `next` or found by a walk are noted here (the writer keeps them, a reader does not). */
    private readonly known: KnownBoundaries,
  ) {
    this.readAhead = new ReadAhead(io, maxPayloadBytes);
    this.access = new SegmentAccess(io, segments, view, maxPayloadBytes, fullChecks, known);
    this.random = new RandomReads(this.access);
    this.walks = new LengthWalks(this.access);
  }

  /** The record at `offset`, or undefined at the head. */
  read(offset: number): JournalRecord | undefined {
    return this.random.read(offset);
  }

  /** Visits the records at `offsets` (see RandomReads.readEach). */
  readEach(offsets: readonly number[], visit: RecordBytesVisitor): void {
    this.random.readEach(offsets, visit);
  }

  countRecords(from: number, to: number): number {
    return this.walks.countRecords(from, to);
  }

  boundaryAtOrBefore(offset: number): number {
    return this.walks.boundaryAtOrBefore(offset);
  }

  readFrom(offset: number, options: ReadFromOptions = {}): AsyncGenerator<JournalRecord, void, undefined> {
    const { follow = false, signal, transient = false } = options;
    // a misspelt `follow` would end at the head instead of following: refused on the first next(), as a bad offset is
    const optionKeys = (): void => checkOptionKeys('readFrom', options, READ_FROM_KEYS);
    let pos = offset;
    let first = true;
    // a transient iterator's own buffer: its records are valid until its next step
    const scratch = transient ? newChunkScratch() : undefined;
    return new RecordIterator({
      signal,
      wait: () => this.changes.wait(signal),
      nextBatch: () => {
        if (first) {
          optionKeys();
          checkOffset(offset); // on the first next(), as the async generator did
        }
        this.view.checkOpen();
        if (pos >= this.view.head() || pos < this.view.earliest()) this.view.refresh();
        const head = this.view.head();
        if (pos === head) return follow ? 'wait' : 'end';
        const batch = withTypedErrors('reading', this.segments.dir, () => this.readBatch(pos, head, first, BATCH_RECORDS, BATCH_RECORDS, scratch));
        first = false;
        if (batch.length === 0) return batch;
        pos = batch[batch.length - 1]!.next;
        this.known.remember(pos);
        return batch;
      },
    });
  }

  /**
   * Up to `maxRecords` records from `offset` without waiting (empty at the
   * head), and no more than READ_MANY_BYTES of them a call (at least one
   * record). Consumers use it to hand a batch to a handler without an async
   * step per record. `transient`: the records are views into this handle's
   * one read buffer, valid until the next transient `readMany` (a batch
   * may then come back shorter than `maxRecords` before the head: it ends
   * where the buffer's bytes do).
   */
  readMany(offset: number, maxRecords: number, continuing = false, transient: boolean | TransientReadBuffer = false): JournalRecord[] {
    if (transient === false) return withTypedErrors('reading', this.segments.dir, () => this.readManyUntyped(offset, maxRecords, continuing, undefined));
    // a transient batch ends where the buffer does, often short: a call from the last one's end is
    // going on from a checked record, so what fails there is damage, not the caller's offset
    const scratch = transient === true ? this.scratch : scratchOf(transient);
    const records = withTypedErrors('reading', this.segments.dir, () => this.readManyUntyped(offset, maxRecords, continuing || offset === scratch.handedOut, scratch));
    if (records.length > 0) scratch.handedOut = records[records.length - 1]!.next;
    return records;
  }

  /** `continuing`: `offset` is the `next` of a record read before, so records that do not decode there are damage (as in `readFrom`), not a bad offset. */
  private readManyUntyped(offset: number, maxRecords: number, continuing: boolean, scratch: ChunkScratch | undefined): JournalRecord[] {
    this.view.checkOpen();
    checkOffset(offset);
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) throw new InvalidArgumentError(`maxRecords must be a non-negative integer, not ${String(maxRecords)}`);
    if (offset >= this.view.head() || offset < this.view.earliest()) this.view.refresh();
    let out: JournalRecord[] = [];
    let pos = offset;
    // records a caller may keep (views into fresh chunks): no more than READ_MANY_BYTES of them a call
    while (out.length < maxRecords && pos - offset < READ_MANY_BYTES) {
      const head = this.view.head();
      if (pos === head) break;
      const batch = this.readBatch(pos, head, out.length === 0 && !continuing, maxRecords - out.length, maxRecords, scratch, READ_MANY_BYTES - (pos - offset));
      if (batch.length === 0) break;
      // a second batch would be read into the buffer that holds the first
      if (scratch && !this.fullChecks) {
        out = batch;
        pos = batch[batch.length - 1]!.next;
        break;
      }
      if (out.length === 0) out = batch; // the usual case: one batch is the answer
      else for (const r of batch) out.push(r);
      pos = batch[batch.length - 1]!.next;
    }
    if (out.length > 0) this.known.remember(pos);
    return out;
  }

  /**
   * readMany's records handed to `visit` where they were read, without a
   * copy or an object per record (the bytes are the reader's window, valid
   * during the call only); returns the offset after the last record visited
   * (`offset` when none). Same checks and errors as readMany; records before
   * damage are visited before its error is thrown. The visitor's own errors
   * stop the reading and reach the caller as they are.
   */
  visitMany(offset: number, maxRecords: number, continuing: boolean, visit: RecordBytesVisitor): number {
    if (this.fullChecks) {
      // the read-ahead's verified runs are copied out anyway: visit the records readMany makes of them
      const records = this.readMany(offset, maxRecords, continuing);
      for (const r of records) visit(r.payload, 0, r.payload.length, r.offset);
      return records.length > 0 ? records[records.length - 1]!.next : offset;
    }
    let failed: { error: unknown } | undefined;
    const guarded = (bytes: Uint8Array, at: number, length: number, recordOffset: number): boolean => {
      try {
        visit(bytes, at, length, recordOffset);
        return true;
      } catch (error) {
        failed = { error };
        return false;
      }
    };
    const next = withTypedErrors('reading', this.segments.dir, () => this.visitManyUntyped(offset, maxRecords, continuing, guarded));
    if (failed !== undefined) throw failed.error;
    return next;
  }

  private visitManyUntyped(offset: number, maxRecords: number, continuing: boolean, visit: (bytes: Uint8Array, at: number, length: number, offset: number) => boolean): number {
    this.view.checkOpen();
    checkOffset(offset);
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 0) throw new InvalidArgumentError(`maxRecords must be a non-negative integer, not ${String(maxRecords)}`);
    if (offset >= this.view.head() || offset < this.view.earliest()) this.view.refresh();
    let pos = offset;
    let count = 0;
    while (count < maxRecords) {
      const head = this.view.head();
      if (pos === head) break;
      this.view.refreshIfStale();
      let attempt = this.scanVisit(pos, Math.min(head, this.view.head()), maxRecords - count, visit);
      // a reader's view may hold bytes the writer has since rolled back: look again before calling the log corrupt
      if (attempt.count === 0 && this.view.refresh()) attempt = this.scanVisit(pos, this.view.head(), maxRecords - count, visit);
      if (attempt.count === 0) {
        if (pos >= this.view.head()) break;
        // a segment's base is a record boundary whatever its bytes say: what fails there is the log, not the caller's offset
        if (count === 0 && !continuing && pos !== attempt.seg.base) throw this.access.gapAt(attempt.seg, attempt.failure.position) ?? new NotRecordBoundaryError(pos);
        throw this.access.damageAt(attempt.seg, attempt.failure);
      }
      count += attempt.count;
      pos = attempt.next;
      if (attempt.stopped) break;
    }
    if (count > 0) this.known.remember(pos);
    return pos;
  }

  /** Up to `max` records from `pos` in its segment, below `head`, each checked then visited in the segment's window. */
  private scanVisit(pos: number, head: number, max: number, visit: (bytes: Uint8Array, at: number, length: number, offset: number) => boolean) {
    const idx = this.access.locate(pos);
    const seg = this.segments.segments[idx]!;
    const fd = this.access.fdFor(seg, pos);
    const limit = SegmentManager.position(seg, this.segments.endOf(idx, head));
    const start = SegmentManager.position(seg, pos);
    const base = seg.base - HEADER_SIZE; // a file position plus this is a global offset
    const window = (seg.window ??= new FileWindow(this.io, fd, limit, WINDOW_BYTES));
    window.limit = limit;
    let count = 0;
    let stopped = false;
    const scan = scanSegment(this.io, fd, {
      maxPayloadBytes: this.maxPayloadBytes,
      start,
      size: limit,
      window,
      fullChecks: false,
      checkAhead: max,
      visit: (p, n, buf, i) => {
        count++;
        if (!visit(buf, i + RECORD_OVERHEAD, n, base + p)) stopped = true;
        return !stopped && count < max;
      },
    });
    return { count, next: base + scan.end, stopped, seg, failure: scan.failure ?? { position: start, reason: 'torn-header' as CutReason } };
  }

  /** The read-ahead of a transient reader's buffer (its runs are read into two buffers of its own: see ReadAhead). */
  private transientAhead(scratch: ChunkScratch): ReadAhead {
    let ahead = this.transientReadAheads.get(scratch);
    if (ahead === undefined) {
      ahead = new ReadAhead(this.io, this.maxPayloadBytes, true);
      this.transientReadAheads.set(scratch, ahead);
    }
    return ahead;
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
   * Up to `max` records from `pos`, all inside one segment and below `head`;
   * empty only when a refresh moved the head back to `pos`.
   */
  private readBatch(pos: number, head: number, first: boolean, max = BATCH_RECORDS, want = max, scratch?: ChunkScratch, maxBytes = Number.POSITIVE_INFINITY): JournalRecord[] {
    this.view.refreshIfStale();
    let attempt = this.scanBatch(pos, Math.min(head, this.view.head()), max, want, scratch, maxBytes);
    // a reader's view may hold bytes the writer has since rolled back: look
    // again before calling the log corrupt
    if (attempt.batch.length === 0 && this.view.refresh()) attempt = this.scanBatch(pos, this.view.head(), max, want, scratch, maxBytes);
    const { batch, seg, failure } = attempt;
    if (batch.length === 0 && pos < this.view.head()) {
      // a segment's base is a record boundary whatever its bytes say: what
      // fails there is the log, not the caller's offset
      if (first && pos !== seg.base) throw this.access.gapAt(seg, failure.position) ?? new NotRecordBoundaryError(pos);
      throw this.access.damageAt(seg, failure);
    }
    return batch;
  }

  /**
   * `max` records at most; `want` is the batch size the caller reads in (the
   * read-ahead reads that many); `scratch`: read into that buffer (transient
   * reads, verifyOnRead 'crc'), not into fresh chunks.
   */
  private scanBatch(pos: number, head: number, max: number, want: number, scratch: ChunkScratch | undefined, maxBytes: number): { batch: JournalRecord[]; seg: Segment; failure: { position: number; reason: CutReason } } {
    const idx = this.access.locate(pos);
    const seg = this.segments.segments[idx]!;
    const end = this.segments.endOf(idx, head);
    const fd = this.access.fdFor(seg, pos);
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
      return batch.length < max && p + size - start < maxBytes;
    };

    // records the worker verified while the caller was busy with the last batch (its work is the
    // BLAKE3 of each record: with verifyOnRead 'crc', the CRC32C alone costs less than handing it over)
    const ahead = this.fullChecks ? this.readAhead.take(seg, start, limit) : undefined;
    if (ahead) {
      const { bytes } = ahead;
      const shift = ahead.start; // bytes[i] is the file's byte at position i + shift
      let p = start;
      while (p < ahead.end && batch.length < max && p - start < maxBytes) {
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

    if (!this.fullChecks) {
      // records checked where they are read, views into the chunk they were read into
      if (scratch) {
        // records the worker checked (their CRC32C) while the caller was busy with the last batch: views into the run.
        // Not with the native run check: the CRC32C of a batch then costs less than handing it over (a rebuild
        // used ~15% more CPU with the worker, for no less wall time: bench/issues/24-read-path.md, "Sixth pass")
        const ahead = checksums().verifyRun === undefined ? this.transientAhead(scratch) : undefined;
        const run = ahead?.take(seg, start, limit);
        if (ahead && run) {
          const end = viewsOfRun(run, start, max, maxBytes, seg.base, batch);
          ahead.sized(end - start, batch.length);
          ahead.start(seg, fd, end, limit, want);
          return { batch, seg, failure: { position: end, reason: 'torn-header' } };
        }
        // the records in the buffer are this segment's only while it holds this segment's bytes
        const held = scratch.seg === seg && scratch.dropped === seg.dropped ? scratch.chunk : undefined;
        const scan = readChunked(this.io, fd, held, start, limit, max, this.maxPayloadBytes, seg.base, batch, scratch);
        scratch.seg = seg;
        scratch.dropped = seg.dropped;
        scratch.chunk = scan.chunk;
        if (ahead && batch.length > 0 && scan.failure === undefined) {
          ahead.sized(scan.end - start, batch.length);
          ahead.start(seg, fd, scan.end, limit, want);
        }
        return { batch, seg, failure: scan.failure ?? { position: scan.end, reason: 'torn-header' } };
      }
      const scan = readChunked(this.io, fd, seg.chunk, start, limit, max, this.maxPayloadBytes, seg.base, batch, undefined, maxBytes);
      seg.chunk = scan.chunk;
      return { batch, seg, failure: scan.failure ?? { position: scan.end, reason: 'torn-header' } };
    }
    const window = (seg.window ??= new FileWindow(this.io, fd, limit, WINDOW_BYTES));
    window.limit = limit;
    const scan = scanSegment(this.io, fd, { maxPayloadBytes: this.maxPayloadBytes, start, size: limit, window, visit: add, fullChecks: this.fullChecks });
    if (batch.length > 0 && this.fullChecks) {
      this.readAhead.sized(scan.end - start, batch.length);
      // a full batch: the caller is likely to read on from here
      if (scan.stopped) this.readAhead.start(seg, fd, scan.end, limit, want);
    }
    return { batch, seg, failure: scan.failure ?? { position: start, reason: 'torn-header' } };
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

/**
 * Records of a verified run from file position `start`, pushed onto `out`
 * as views into the run's buffer: up to `max` records and `maxBytes` bytes
 * (at least one record). `base` turns a file position into a global offset.
 * Returns the file position after the last record.
 */
function viewsOfRun(run: VerifiedRun, start: number, max: number, maxBytes: number, base: number, out: JournalRecord[]): number {
  const { bytes, end } = run;
  const { buffer, byteOffset } = bytes;
  const shift = run.start; // bytes[i] is the file's byte at position i + shift
  const offsetOf = base - HEADER_SIZE;
  let p = start;
  while (p < end && out.length < max && p - start < maxBytes) {
    const i = p - shift;
    const n = readU32(bytes, i);
    const offset = offsetOf + p;
    p += RECORD_OVERHEAD + n;
    out.push({ offset, payload: new Uint8Array(buffer, byteOffset + i + RECORD_OVERHEAD, n), blake3: new Uint8Array(buffer, byteOffset + i + 8, 32), next: offsetOf + p });
  }
  return p;
}
