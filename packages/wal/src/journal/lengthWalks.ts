import { InvalidArgumentError, NotRecordBoundaryError, OffsetOutOfRangeError, withTypedErrors } from '../errors.js';
import { RECORD_OVERHEAD } from '../format/constants.js';
import { readU32 } from '../format/record.js';
import { FileWindow } from '../io/fileWindow.js';
import { checkOffset, type SegmentAccess } from './segmentAccess.js';
import { SegmentManager } from './segmentManager.js';

const WINDOW_BYTES = 1024 * 1024;

/**
 * Walks over records' length fields without checking them: counting
 * records for lag figures, finding record boundaries for cursor
 * validation. Cheap, and never a way to read data.
 */
export class LengthWalks {
  constructor(private readonly access: SegmentAccess) {}

  /**
   * Counts the records in [from, to) by walking their length fields (no
   * checksums: this is for lag figures, not for reading data). Both must be
   * record boundaries with earliest <= from <= to <= head.
   */
  countRecords(from: number, to: number): number {
    const { view } = this.access;
    return withTypedErrors('counting records in', this.access.segments.dir, () => {
      view.checkOpen();
      checkOffset(from);
      checkOffset(to);
      if (from > to) throw new InvalidArgumentError(`countRecords needs from <= to, not from ${from} and to ${to}`);
      if (to > view.head() || from < view.earliest()) view.refresh();
      const earliest = view.earliest();
      const head = view.head();
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
    const { view, segments, known } = this.access;
    return withTypedErrors('walking records in', segments.dir, () => {
      view.checkOpen();
      checkOffset(offset);
      if (offset >= view.head() || offset < view.earliest()) view.refresh();
      const head = view.head();
      if (offset >= head) return head;
      if (offset < view.earliest()) return -1;
      const idx = this.access.locate(offset);
      const seg = segments.segments[idx]!;
      const end = segments.endOf(idx, head);
      let pos = known.startFor(seg.base, offset);
      const limit = SegmentManager.position(seg, end);
      const fd = this.access.fdFor(seg, pos);
      const window = (seg.window ??= new FileWindow(this.access.io, fd, limit, WINDOW_BYTES));
      window.limit = Math.max(window.limit, limit);
      for (;;) {
        const p = SegmentManager.position(seg, pos);
        if (!window.ensure(p, RECORD_OVERHEAD)) throw new NotRecordBoundaryError(pos);
        const next = pos + RECORD_OVERHEAD + readU32(window.buf, p - window.start);
        if (next > offset || next >= end) {
          const boundary = next === offset ? next : pos;
          known.remember(boundary);
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
    const { segments } = this.access;
    let count = 0;
    let pos = from;
    while (pos < to) {
      const idx = this.access.locate(pos);
      const seg = segments.segments[idx]!;
      const end = Math.min(to, segments.endOf(idx, head));
      const limit = SegmentManager.position(seg, end);
      const fd = this.access.fdFor(seg, pos);
      const window = (seg.window ??= new FileWindow(this.access.io, fd, limit, WINDOW_BYTES));
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
}
