import type { Journal } from '@episteme/wal';

const MAX_KNOWN = 256;
const perJournal = new WeakMap<Journal, RecordBoundaries>();

/**
 * Answers "is this offset the start of a record?" by walking record lengths
 * from a point known to be a boundary (the base of the offset's segment). Reading the record at the offset is not enough: a payload may
 * itself hold a well-formed record (an export, a replicated log), and a
 * cursor inside it would deliver that payload's bytes as an event.
 *
 * The walk is O(records in the segment) from the base; to keep repeated commits cheap it
 * starts from the highest boundary this process already established in the
 * same segment (a previous commit of the same consumer, or its cursor as
 * checked when the journal's first registry opened). Only writer
 * journals remember boundaries: in a read-only view, the writer may crash
 * and recovery may cut and rewrite the tail, so yesterday's boundary can be
 * inside today's record.
 */
export class RecordBoundaries {
  /** The instance of a journal: what is a boundary is a fact about the log, shared by every registry over it. */
  static of(journal: Journal): RecordBoundaries {
    let b = perJournal.get(journal);
    if (!b) perJournal.set(journal, (b = new RecordBoundaries(journal)));
    return b;
  }

  /** key (a consumer name) -> an offset that is a record boundary of this journal; insertion-ordered for eviction. */
  private readonly known = new Map<string, number>();

  private constructor(private readonly journal: Journal) {}

  /** Notes that `offset` is a boundary (it was validated, or it is the `next` of a record read from the journal). */
  remember(key: string, offset: number): void {
    if (this.journal.readOnly) return;
    this.known.delete(key);
    this.known.set(key, offset);
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value!);
  }

  /**
   * Whether `offset`, within [earliest, head), starts a record. `segments`
   * is a fresh `journal.segmentList()` when the caller has one.
   */
  isBoundary(offset: number, segments?: Array<{ base: number }>): boolean {
    return this.atOrBefore(offset, segments) === offset;
  }

  /**
   * The last record boundary at or before `offset` (the head when `offset`
   * is at or beyond it), or -1 when `offset` is below every retained segment.
   */
  atOrBefore(offset: number, segments: Array<{ base: number }> = this.journal.segmentList()): number {
    const head = this.journal.head;
    if (offset >= head) return head;
    let base = -1;
    for (const s of segments) if (s.base <= offset) base = s.base;
    if (base < 0) return -1;
    let pos = base;
    if (!this.journal.readOnly) {
      for (const k of this.known.values()) if (k > pos && k <= offset) pos = k;
    }
    // a walk over length fields: records below the head are verified already
    return this.journal.boundaryAtOrBefore(offset, pos);
  }
}
