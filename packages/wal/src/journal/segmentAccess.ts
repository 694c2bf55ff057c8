import { CorruptRecordError, InvalidArgumentError, OffsetOutOfRangeError, type CutReason } from '../errors.js';
import { HEADER_SIZE } from '../format/constants.js';
import type { FileIO } from '../io/fileIO.js';
import { hasErrno } from '../shared/errno.js';
import type { KnownBoundaries } from './knownBoundaries.js';
import type { Segment, SegmentManager } from './segmentManager.js';

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
  /** A read met a record failing its CRC32C or BLAKE3 (the telemetry counter); absent when nothing counts them. */
  checksumFailed?(): void;
}

/**
 * What every way of reading the log shares (records by offset, runs of
 * records, walks over length fields): the view, the segments, where an
 * offset is and what to call bytes that do not decode there.
 */
export class SegmentAccess {
  constructor(
    readonly io: FileIO,
    readonly segments: SegmentManager,
    readonly view: LogView,
    readonly maxPayloadBytes: number,
    /** A read checks each record's BLAKE3 as well as its CRC32C (verifyOnRead: 'full'). */
    readonly fullChecks: boolean,
    /** Boundaries handed out as `next` or found by a walk are noted here (the writer keeps them, a reader does not). */
    readonly known: KnownBoundaries,
  ) {}

  /** Index of the segment of `offset`, or OffsetOutOfRangeError. */
  locate(offset: number): number {
    const earliest = this.view.earliest();
    const head = this.view.head();
    if (offset < earliest || offset > head) throw new OffsetOutOfRangeError(offset, earliest, head);
    const idx = this.segments.indexOf(offset);
    if (idx < 0) throw new OffsetOutOfRangeError(offset, earliest, head);
    return idx;
  }

  /**
   * The segment's read descriptor. A reader's view may be behind
   * the writer's cleanup: a segment file that is gone means the offset was
   * deleted, which is an out-of-range error, not an I/O failure.
   */
  fdFor(seg: Segment, offset: number): number {
    try {
      return this.segments.fdOf(seg);
    } catch (err) {
      if (!hasErrno(err, 'ENOENT')) throw err; // the WAL_IO error of the open, wrapping its errno
      this.view.refresh();
      throw new OffsetOutOfRangeError(offset, this.view.earliest(), this.view.head());
    }
  }

  /**
   * The error for records that do not decode at `failure`. A sealed segment
   * whose file ends before the next segment's base is not torn: a segment
   * between them is missing (FORMAT.md: segments are contiguous), as
   * `verify` reports it. A checksum failure is counted (LogView.checksumFailed).
   */
  damageAt(seg: Segment, failure: { position: number; reason: CutReason }): CorruptRecordError {
    const gap = this.gapAt(seg, failure.position);
    if (gap) return gap;
    // every read that meets damage comes here (the error path only: nothing on a good read)
    if (failure.reason === 'crc-mismatch' || failure.reason === 'blake3-mismatch') this.view.checksumFailed?.();
    return new CorruptRecordError({ segment: seg.name, position: failure.position, offset: seg.base + failure.position - HEADER_SIZE, reason: failure.reason });
  }

  /** The missing segment after `seg`, when reading stopped at `position`, at or past the end of its file, short of the next base. */
  gapAt(seg: Segment, position: number): CorruptRecordError | undefined {
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
}

export function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(`an offset must be a non-negative safe integer, not ${String(offset)}`);
  }
}
