import { ChecksumOffload } from '../checksum/offload.js';
import { RECORD_OVERHEAD } from '../format/constants.js';
import { checkRecordChecksums, readU32 } from '../format/record.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import type { Segment } from './segmentManager.js';

/** Runs below this size are not read ahead: handing them over costs more than it saves. */
const MIN_BYTES = 32 * 1024;
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
 * Read-ahead for sequential readers (a projection rebuild, a consumer's
 * catch-up). After a batch, the next run of records of the same segment is
 * read straight into the checksum offload's shared buffer (through the
 * FileIO seam, on this thread) and the worker checks it while the caller
 * works on the batch: a rebuild decodes JSON meanwhile. The next batch, if
 * it starts there, is built from those verified bytes without checking them
 * again here. Anything else (another position, damage found, the head moved
 * back, the worker busy or off) falls back to the ordinary read, which
 * checks every record and reports damage exactly as always.
 *
 * A caller that does little with its records (a copy, a scan for one field)
 * comes back before the worker is done, and would only wait for it: the
 * worker then takes the run from `split` on, and this thread checks the
 * records before it when the batch is taken. The worker's share adapts to
 * the caller: all of the run for a rebuild, about half for a plain reader.
 */
export class ReadAhead {
  private pending?: { seg: Segment; start: number; split: number; end: number; ticket: number };
  /** Mean bytes of the records read lately: sizes the next read. */
  private recordBytes = 512;
  /** The worker's part of a run: lowered when this thread had to wait for it, raised when it was done first. */
  share = 1;
  /** Tests pin the split here (0.25..1); undefined lets the share adapt. */
  static fixedShare: number | undefined;

  constructor(
    private readonly io: FileIO,
    private readonly maxPayloadBytes: number,
  ) {}

  /**
   * The verified run read ahead at `start` of `seg`, when there is one and
   * every record is intact (this thread checks its part here, the worker
   * has checked the rest). Its bytes stay valid until the
   * next call to `start` (or the next scan that uses the worker).
   */
  take(seg: Segment, start: number, limit: number): VerifiedRun | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    const offload = ChecksumOffload.get();
    // another position: leave the job; the next user of the worker takes it back once it is done
    if (!offload || p.seg !== seg || p.start !== start || p.end > limit) return undefined;
    // this thread's part of the run first, while the worker may still be on its own
    const buf = offload.bytes;
    let intact = true;
    for (let i = 0; i < p.split; ) {
      const n = readU32(buf, i);
      if (checkRecordChecksums(buf, i, n) !== null) {
        intact = false;
        break;
      }
      i += RECORD_OVERHEAD + n;
    }
    if (ReadAhead.fixedShare === undefined) this.share = Math.min(1, Math.max(MIN_SHARE, this.share + (offload.idle ? 0.05 : -0.05)));
    if (offload.finish(p.ticket, false) !== null || !intact) return undefined;
    return { bytes: buf, start: p.start, end: p.end };
  }

  /**
   * Starts reading ahead from file position `from` of `seg` (a record
   * boundary below `limit`), up to `maxRecords` records. Best effort: any
   * failure here just means no read-ahead (the ordinary read will meet it).
   */
  start(seg: Segment, fd: number, from: number, limit: number, maxRecords: number): void {
    const offload = ChecksumOffload.get();
    if (!offload || from >= limit) return;
    // about the batch the caller asks for (a little more: records vary)
    const want = Math.min(offload.capacity, limit - from, Math.ceil(maxRecords * this.recordBytes * 1.125) + 4096);
    if (!offload.usable(want, MIN_BYTES)) return;
    const buf = offload.bytes;
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
    if (end < MIN_BYTES) return;
    // the worker always gets a part: this thread checks its own only once the caller is back
    if (split === end) split = 0;
    this.pending = { seg, start: from, split, end: from + end, ticket: offload.startJob(end, split) };
  }

  /** A batch of `records` records took `bytes` bytes. */
  sized(bytes: number, records: number): void {
    if (records > 0) this.recordBytes = bytes / records;
  }
}
