import { ChecksumOffload } from '../checksum/offload.js';
import { RECORD_OVERHEAD } from '../format/constants.js';
import { checkRecordChecksums, readU32 } from '../format/record.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import type { Segment } from './segmentManager.js';

/** Runs below this size are not read ahead: handing them over costs more than it saves. */
const MIN_BYTES = 32 * 1024;
/**
 * The same for a CRC-only read-ahead: the worker saves the reader about
 * 0.5 ns a byte (the CRC32C of 256 B records), and a handoff (the wake-up,
 * the run read from the other core's cache) costs 10-15 µs of CPU: a
 * consumer's batch of 256 such records (64 KiB) cost 26% more CPU with it
 * (bench/issues/24-read-path.md), a rebuild's 4,096 (1 MiB) far less.
 */
const OWN_MIN_BYTES = 256 * 1024;
/** The worker's smallest share of a run. */
const MIN_SHARE = 0.25;

/** Records read ahead and verified (by the worker and, for its part, this thread): `bytes[0 .. end - start)` holds them. */
export interface VerifiedRun {
  bytes: Uint8Array;
  /** File positions of the run (record boundaries). */
  start: number;
  end: number;
}

/**
 * Batches a CRC-only read-ahead skips once the worker's share has sunk to
 * MIN_SHARE: the caller does so little with its records (a scan) that the
 * handoff costs about what the worker saves it, in more CPU for the same
 * wall time (bench/issues/24-read-path.md). It then tries again.
 */
const REST_BATCHES = 32;
/** Buffers a CRC-only read-ahead grows to: a multiple of this (a run varies a little from batch to batch). */
const OWN_BUFFER_STEP = 256 * 1024;
/**
 * Largest run a CRC-only read-ahead reads (its buffers' size): a reader's
 * two buffers are fresh memory, page faults included, and are kept while the
 * reader lives; a run of 1 MiB is about a rebuild's batch of 4,096 records of
 * 256 B, and at 4 KiB records a handoff per 256 records costs less than
 * four times the pages.
 */
const OWN_RUN_BYTES = 1024 * 1024;

/**
 * Read-ahead for sequential readers (a projection rebuild, a consumer's
 * catch-up). After a batch, the next run of records of the same segment is
 * read into shared memory (through the FileIO seam, on this thread) and the
 * checksum worker checks it while the caller works on the batch: a rebuild
 * decodes meanwhile. The next batch, if it starts there, is built from those
 * verified bytes without checking them again here. Anything else (another
 * position, damage found, the head moved back, the segment's bytes dropped,
 * the worker busy or off) falls back to the ordinary read, which checks
 * every record and reports damage exactly as always.
 *
 * Two kinds. With verifyOnRead 'full' the run is read into the offload's
 * own buffer and the worker checks each record's CRC32C and BLAKE3; the
 * reader copies the records out (`crcOnly` false). A transient reader with
 * verifyOnRead 'crc' (`crcOnly` true) reads ahead into two buffers of its
 * own, taking turns, and the worker checks each record's CRC32C: its
 * records are handed out as views into the run, so the run read ahead next
 * goes into the other buffer, never into the one whose records the caller
 * may still hold (they are valid until its next read).
 *
 * A caller that does little with its records (a copy, a scan for one field)
 * comes back before the worker is done, and would only wait for it: the
 * worker then takes the run from `split` on, and this thread checks the
 * records before it when the batch is taken. The worker's share adapts to
 * the caller: all of the run for a rebuild, about half for a plain reader.
 */
export class ReadAhead {
  private pending?: { seg: Segment; dropped: number | undefined; start: number; split: number; end: number; ticket: number; buffer: Uint8Array };
  /** Mean bytes of the records read lately: sizes the next read. */
  private recordBytes = 512;
  /** The worker's part of a run: lowered when this thread had to wait for it, raised when it was done first. */
  share = 1;
  /** Tests pin the split here (0.25..1); undefined lets the share adapt. */
  static fixedShare: number | undefined;
  /** A CRC-only read-ahead's two buffers (made on first use), and which one the run handed out last is in. */
  private readonly own: [Uint8Array | undefined, Uint8Array | undefined] = [undefined, undefined];
  private held = 0;
  /** Batches left to skip (see REST_BATCHES). */
  private resting = 0;

  constructor(
    private readonly io: FileIO,
    private readonly maxPayloadBytes: number,
    /** Check each record's CRC32C only, into buffers of this reader's own (see the class). */
    private readonly crcOnly = false,
  ) {}

  /**
   * The verified run read ahead at `start` of `seg`, when there is one and
   * every record is intact (this thread checks its part here, the worker
   * has checked the rest, or this thread the part the worker had not
   * reached yet). With `crcOnly` false its bytes stay valid until the next
   * call to `start` (or the next scan that uses the worker); with `crcOnly`
   * true, through the next call to `start` (which reads into the other buffer).
   */
  take(seg: Segment, start: number, limit: number): VerifiedRun | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    const offload = ChecksumOffload.get();
    // another position: leave the job; the next user of the worker takes it back once it is done
    if (!offload || p.seg !== seg || p.dropped !== seg.dropped || p.start !== start || p.end > limit) return undefined;
    // this thread's part of the run first, while the worker may still be on its own
    const buf = p.buffer;
    if (!intactRecords(buf, 0, p.split, !this.crcOnly)) return undefined;
    // a CRC-only run the worker is still on: this thread checks the rest, rather than wait for a worker that may be waiting for a CPU
    const at = this.crcOnly ? offload.steal(p.ticket) : undefined;
    if (ReadAhead.fixedShare === undefined) {
      // a run taken back from a worker part of the way through it: the caller is back fast (a scan); one the worker had not
      // started: it had no CPU meanwhile (other work holds both cores), which may pass
      const step = at === undefined ? (offload.idle ? 0.05 : -0.05) : at > p.split ? -0.25 : -0.05;
      this.share = Math.min(1, Math.max(MIN_SHARE, this.share + step));
      if (this.crcOnly && this.share === MIN_SHARE) {
        this.resting = REST_BATCHES;
        this.share = 0.5;
      }
    }
    if (at !== undefined) {
      if (!intactRecords(buf, at, p.end - p.start, false)) return undefined;
    } else if (offload.finish(p.ticket, false) !== null) return undefined;
    if (this.crcOnly) this.held = buf === this.own[0] ? 0 : 1;
    return { bytes: buf, start: p.start, end: p.end };
  }

  /**
   * Starts reading ahead from file position `from` of `seg` (a record
   * boundary below `limit`), up to `maxRecords` records. Best effort: any
   * failure here just means no read-ahead (the ordinary read will meet it).
   */
  start(seg: Segment, fd: number, from: number, limit: number, maxRecords: number): void {
    if (this.resting > 0) {
      this.resting--;
      return;
    }
    const offload = ChecksumOffload.get();
    if (!offload || from >= limit) return;
    // about the batch the caller asks for (a little more: records vary)
    const want = Math.min(this.crcOnly ? OWN_RUN_BYTES : offload.capacity, limit - from, Math.ceil(maxRecords * this.recordBytes * 1.125) + 4096);
    const minBytes = this.crcOnly ? OWN_MIN_BYTES : MIN_BYTES;
    if (!offload.usable(want, minBytes)) return;
    const buf = this.crcOnly ? this.ownBuffer(want) : offload.bytes;
    let n: number;
    try {
      n = readFully(this.io, fd, buf, 0, want, from);
    } catch {
      return;
    }
    let end = 0;
    let split = 0;
    const mine = Math.floor(want * (1 - (ReadAhead.fixedShare ?? this.share)));
    for (let count = 0; count < maxRecords && end + RECORD_OVERHEAD <= n; count++) {
      const len = readU32(buf, end);
      if (len > this.maxPayloadBytes || end + RECORD_OVERHEAD + len > n) break;
      end += RECORD_OVERHEAD + len;
      if (end <= mine) split = end;
    }
    if (end < minBytes) return;
    // the worker always gets a part: this thread checks its own only once the caller is back
    if (split === end) split = 0;
    const ticket = this.crcOnly ? offload.startJob(end, split, { crcOnly: true, buffer: buf }) : offload.startJob(end, split);
    this.pending = { seg, dropped: seg.dropped, start: from, split, end: from + end, ticket, buffer: buf };
  }

  /** The buffer the run handed out last is not in, of at least `want` bytes. */
  private ownBuffer(want: number): Uint8Array {
    const i = 1 - this.held;
    const have = this.own[i];
    if (have !== undefined && have.length >= want) return have;
    const made = ChecksumOffload.sharedBytes(Math.min(OWN_RUN_BYTES, Math.ceil((want * 1.25) / OWN_BUFFER_STEP) * OWN_BUFFER_STEP));
    this.own[i] = made;
    return made;
  }

  /** A batch of `records` records took `bytes` bytes. */
  sized(bytes: number, records: number): void {
    if (records > 0) this.recordBytes = bytes / records;
  }
}

/** True when every record in `buf[from..to)` (whole records, framed) is intact: its CRC32C, and its BLAKE3 when `full`. */
function intactRecords(buf: Uint8Array, from: number, to: number, full: boolean): boolean {
  for (let i = from; i < to; ) {
    const n = readU32(buf, i);
    if (checkRecordChecksums(buf, i, n, full) !== null) return false;
    i += RECORD_OVERHEAD + n;
  }
  return true;
}
