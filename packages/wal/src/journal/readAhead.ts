import { ChecksumOffload } from '../checksum/offload.js';
import { RECORD_OVERHEAD } from '../format/constants.js';
import { readU32 } from '../format/record.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import type { Segment } from './segmentManager.js';

/** Runs below this size are not read ahead: handing them over costs more than it saves. */
const MIN_BYTES = 32 * 1024;

/** Records read ahead and verified by the worker: `bytes[0 .. end - start)` holds them. */
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
 */
export class ReadAhead {
  private pending?: { seg: Segment; start: number; end: number; ticket: number };
  /** Mean bytes of the records read lately: sizes the next read. */
  private recordBytes = 512;

  constructor(
    private readonly io: FileIO,
    private readonly maxPayloadBytes: number,
  ) {}

  /**
   * The verified run read ahead at `start` of `seg`, when there is one and
   * the worker found every record intact. Its bytes stay valid until the
   * next call to `start` (or the next scan that uses the worker).
   */
  take(seg: Segment, start: number, limit: number): VerifiedRun | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    const offload = ChecksumOffload.get();
    // another position: leave the job; the next user of the worker takes it back once it is done
    if (!offload || p.seg !== seg || p.start !== start || p.end > limit) return undefined;
    if (offload.finish(p.ticket, false) !== null) return undefined;
    return { bytes: offload.bytes, start: p.start, end: p.end };
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
    for (let count = 0; count < maxRecords && end + RECORD_OVERHEAD <= n; count++) {
      const len = readU32(buf, end);
      if (len > this.maxPayloadBytes || end + RECORD_OVERHEAD + len > n) break;
      end += RECORD_OVERHEAD + len;
    }
    if (end < MIN_BYTES) return;
    this.pending = { seg, start: from, end: from + end, ticket: offload.startJob(end) };
  }

  /** A batch of `records` records took `bytes` bytes. */
  sized(bytes: number, records: number): void {
    if (records > 0) this.recordBytes = bytes / records;
  }
}
