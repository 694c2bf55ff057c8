import { CorruptRecordError, NotRecordBoundaryError, OffsetOutOfRangeError, ioError, withTypedErrors, type CutReason } from '../errors.js';
import { RECORD_OVERHEAD } from '../format/constants.js';
import { checkRecordChecksums, readU32 } from '../format/record.js';
import { readFully } from '../io/fileIO.js';
import type { JournalRecord } from './recordReader.js';
import { checkOffset, type SegmentAccess } from './segmentAccess.js';
import { SegmentManager, type Segment } from './segmentManager.js';

/** Bounds of the single read `read` makes for a record of unknown size. */
const MIN_GUESS_BYTES = 1024;
const MAX_GUESS_BYTES = 64 * 1024;
/**
 * `readEach` fetches records whose starts are at most this far apart with
 * one pread. Copying a few KiB more costs about what a pread call does here
 * (measured: a 1 KiB pread 0.7-1.1 µs, 4 KiB 1.0, 16 KiB 1.2, 64 KiB 2.6);
 * farther apart, a read of its own each is cheaper.
 */
const RUN_GAP_BYTES = 8 * 1024;
/** The longest run `readEach` fetches at once (its buffer is kept for the next call). */
const RUN_MAX_BYTES = 256 * 1024;

/**
 * Visits one record's payload, `bytes[at, at + length)`, at log `offset`:
 * the bytes are the reader's and valid only during the call (copy what
 * you keep).
 */
export type RecordBytesVisitor = (bytes: Uint8Array, at: number, length: number, offset: number) => void;

/** One run of records fetched by `readEach`: where each payload is, in which buffer. */
interface Run {
  bufs: Uint8Array[];
  ats: number[];
  lengths: number[];
  offsets: number[];
  /** What stopped the run after the records before it (they are visited first). */
  error?: unknown;
}

const emptyRun = (): Run => ({ bufs: [], ats: [], lengths: [], offsets: [] });

/**
 * Records read by offset, one at a time (`read`) or a list of them
 * (`readEach`: a stream's commits, whose offsets an index knows). Every
 * record is checked before it is handed out (its CRC32C, and its BLAKE3
 * with verifyOnRead: 'full').
 */
export class RandomReads {
  /** Bytes read at once for a record of unknown size (the header and, usually, the whole record). */
  private guessBytes = MIN_GUESS_BYTES;
  /** readEach's buffer and run, reused from call to call (a nested call gets its own). */
  private scratch = new Uint8Array(0);
  private run = emptyRun();
  private busy = false;

  constructor(private readonly access: SegmentAccess) {}

  /**
   * The record at `offset`, or undefined at the head. `boundary`: the caller
   * knows `offset` starts a record (an index of the log's records), so
   * bytes that do not decode there are damage (WAL_CORRUPT_RECORD naming
   * it), not an offset off a record boundary.
   */
  read(offset: number, boundary = false): JournalRecord | undefined {
    const { view } = this.access;
    return withTypedErrors('reading', this.access.segments.dir, () => {
      view.checkOpen();
      checkOffset(offset);
      if (offset >= view.head() || offset < view.earliest()) view.refresh();
      else view.refreshIfStale();
      let record: JournalRecord | undefined;
      try {
        record = this.readOne(offset, boundary);
      } catch (err) {
        // a reader's view may hold bytes the writer has since rolled back:
        // look again before calling the offset wrong
        if (!(err instanceof NotRecordBoundaryError || err instanceof CorruptRecordError) || !view.refresh()) throw err;
        record = this.readOne(offset, boundary);
      }
      if (record) this.access.known.remember(record.next);
      return record;
    });
  }

  /**
   * Visits the records at `offsets` in that order, each checked as `read`
   * checks it. The offsets are record boundaries the caller knows (an index
   * of the log): a record that does not decode at one is damage
   * (WAL_CORRUPT_RECORD naming it); an offset at or past the head is out of
   * range. Records whose starts are near each other in a segment are
   * fetched with one pread (offsets in log order make the runs), into a
   * buffer kept from call to call: no allocation per record. The visitor
   * runs outside the reader's error mapping, so its own errors reach the
   * caller as they are.
   */
  readEach(offsets: readonly number[], visit: RecordBytesVisitor): void {
    const nested = this.busy;
    const run = nested ? emptyRun() : this.run;
    this.busy = true;
    try {
      for (let i = 0; i < offsets.length; ) {
        const n = withTypedErrors('reading', this.access.segments.dir, () => this.fetchRun(offsets, i, run, nested));
        for (let k = 0; k < run.offsets.length; k++) visit(run.bufs[k]!, run.ats[k]!, run.lengths[k]!, run.offsets[k]!);
        if (run.error !== undefined) throw run.error;
        i += n;
      }
    } finally {
      run.bufs.length = 0; // no buffer kept alive by the run between calls
      run.error = undefined;
      if (!nested) this.busy = false;
    }
  }

  /** Fetches the records of `offsets` from `i` that one pread covers into `run`; returns how many (at least one). */
  private fetchRun(offsets: readonly number[], i: number, run: Run, nested: boolean): number {
    const { view, segments } = this.access;
    view.checkOpen();
    run.bufs.length = run.ats.length = run.lengths.length = run.offsets.length = 0;
    run.error = undefined;
    const offset = offsets[i]!;
    checkOffset(offset);
    if (i === 0) view.refreshIfStale();
    const head = view.head();
    if (offset >= head || offset < view.earliest()) return this.fetchOne(offset, run);
    const idx = this.access.locate(offset);
    const seg = segments.segments[idx]!;
    const end = segments.endOf(idx, head);
    let j = i;
    while (j + 1 < offsets.length) {
      const o = offsets[j + 1]!;
      if (!Number.isSafeInteger(o) || o <= offsets[j]! || o - offsets[j]! > RUN_GAP_BYTES || o >= end || o - offset > RUN_MAX_BYTES) break;
      j++;
    }
    const last = offsets[j]!;
    const size = last - offset + Math.min(this.guessBytes, end - last);
    let buf = this.scratch;
    if (nested) buf = new Uint8Array(size);
    else if (buf.length < size) buf = this.scratch = new Uint8Array(Math.max(size, RUN_MAX_BYTES + MAX_GUESS_BYTES));
    return this.fill(offsets, i, j, seg, end, buf, size, run);
  }

  /** Reads `size` bytes from `offsets[i]` into `buf` and checks the records `i..j` in them. */
  private fill(offsets: readonly number[], i: number, j: number, seg: Segment, end: number, buf: Uint8Array, size: number, run: Run): number {
    const offset = offsets[i]!;
    const got = readFully(this.access.io, this.access.fdFor(seg, offset), buf, 0, size, SegmentManager.position(seg, offset));
    for (let k = i; k <= j; k++) {
      const o = offsets[k]!;
      const at = o - offset;
      // a record ends at or before the next one asked for starts; what does not fit is read on its own (and judged there)
      const limit = k < j ? Math.min(offsets[k + 1]! - offset, got) : got;
      const n = at + RECORD_OVERHEAD <= limit ? readU32(buf, at) : -1;
      if (n < 0 || n > this.access.maxPayloadBytes || o + RECORD_OVERHEAD + n > end || at + RECORD_OVERHEAD + n > limit || checkRecordChecksums(buf, at, n, this.access.fullChecks) !== null) {
        // read on its own, as `read` would: a longer record, a reader's stale view, or damage with read's error
        try {
          this.fetchOne(o, run);
        } catch (err) {
          if (k === i) throw err;
          run.error = err; // the records before it are visited first, as one by one
          return k - i;
        }
        continue;
      }
      run.bufs.push(buf);
      run.ats.push(at + RECORD_OVERHEAD);
      run.lengths.push(n);
      run.offsets.push(o);
      if (k === j) {
        this.guessBytes = nextGuess(RECORD_OVERHEAD + n);
        this.access.known.remember(o + RECORD_OVERHEAD + n);
      }
    }
    return j - i + 1;
  }

  /** The record at `offset` the way `read` gets it (refreshing a reader's view, its errors); at the head, out of range. */
  private fetchOne(offset: number, run: Run): number {
    const rec = this.read(offset, true);
    if (rec === undefined) throw new OffsetOutOfRangeError(offset, this.access.view.earliest(), this.access.view.head());
    run.bufs.push(rec.payload);
    run.ats.push(0);
    run.lengths.push(rec.payload.length);
    run.offsets.push(offset);
    return 1;
  }

  private readOne(offset: number, boundary: boolean): JournalRecord | undefined {
    const { view, segments } = this.access;
    const head = view.head();
    if (offset === head) return undefined;
    const idx = this.access.locate(offset);
    const seg = segments.segments[idx]!;
    const end = segments.endOf(idx, head);
    const fd = this.access.fdFor(seg, offset);
    const pos = SegmentManager.position(seg, offset);
    if (offset + RECORD_OVERHEAD > end) throw this.refuse(seg, offset, 'torn-header', boundary);
    // One pread for the usual record: header and payload together, sized by
    // the records read lately (bounded by the head); a longer record gets the
    // rest in a second read. The checks below are the same either way.
    const guess = Math.min(this.guessBytes, end - offset);
    let record = new Uint8Array(guess);
    const got = readFully(this.access.io, fd, record, 0, guess, pos);
    if (got < RECORD_OVERHEAD) throw this.refuse(seg, offset, 'torn-header', boundary);
    const n = readU32(record, 0);
    if (n > this.access.maxPayloadBytes) throw this.refuse(seg, offset, 'length-over-limit', boundary);
    if (offset + RECORD_OVERHEAD + n > end) throw this.refuse(seg, offset, 'torn-payload', boundary);
    const size = RECORD_OVERHEAD + n;
    if (size > got) {
      const whole = new Uint8Array(size);
      whole.set(record.subarray(0, got), 0);
      record = whole;
      let more: number;
      try {
        more = readFully(this.access.io, fd, record, got, size - got, pos + got);
      } catch (err) {
        throw ioError('reading', seg.path, err);
      }
      if (more < size - got) throw this.refuse(seg, offset, 'torn-payload', boundary);
    }
    this.guessBytes = nextGuess(size);
    const bad = checkRecordChecksums(record, 0, n, this.access.fullChecks);
    if (bad !== null) throw this.refuse(seg, offset, bad, boundary);
    return { offset, payload: record.subarray(RECORD_OVERHEAD, size), blake3: record.subarray(8, RECORD_OVERHEAD), next: offset + RECORD_OVERHEAD + n };
  }

  /** At a segment's base (a record boundary whatever its bytes say), or a boundary the caller knows, a record that does not decode is damage, not a bad offset. */
  private refuse(seg: Segment, offset: number, reason: CutReason, boundary: boolean): Error {
    const pos = SegmentManager.position(seg, offset);
    return boundary || offset === seg.base ? this.access.damageAt(seg, { position: pos, reason }) : (this.access.gapAt(seg, pos) ?? new NotRecordBoundaryError(offset));
  }
}

/** The next first read: a little over this record (records of a log are alike), never under a small floor. */
function nextGuess(size: number): number {
  return Math.min(MAX_GUESS_BYTES, Math.max(MIN_GUESS_BYTES, size + (size >> 1)));
}
