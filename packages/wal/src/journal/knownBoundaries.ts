/**
 * Record boundaries a journal already knows, so that finding the boundary at
 * or before an offset (cursor validation) walks length fields from the
 * nearest known one instead of from the segment's base: the walk is
 * O(records) and a consumer that commits often would otherwise repeat it.
 *
 * Reading the record at an offset is not enough to call it a boundary: a
 * payload may itself hold a well-formed record (an export, a replicated
 * log), and a cursor inside it would deliver that payload's bytes as an event.
 */
export interface KnownBoundaries {
  /** Notes that `offset` starts a record (or is the head). */
  remember(offset: number): void;
  /** The highest known boundary in (`base`, `offset`], or `base` (a segment's base, always a boundary). */
  startFor(base: number, offset: number): number;
}

const MAX_KNOWN = 256;

/**
 * The writer's cache: the last MAX_KNOWN boundaries it validated or handed
 * out as a record's `next`. Below the writer's head nothing is ever
 * rewritten in its lifetime (a failed write rolls back only what was never
 * acknowledged, and a failed sync ends the journal), so what was a boundary
 * stays one; a boundary in a deleted segment is never below an offset's own
 * segment base, so it is never used. A ring scanned in full: remembering is
 * a store (it happens once per read batch), looking up 256 compares (once
 * per validated cursor).
 */
export class BoundaryCache implements KnownBoundaries {
  private readonly ring = new Array<number>(MAX_KNOWN).fill(-1);
  private at = 0;

  remember(offset: number): void {
    const last = this.ring[(this.at + MAX_KNOWN - 1) % MAX_KNOWN];
    if (last === offset) return; // a consumer that reads at the head remembers the same one over and over
    this.ring[this.at] = offset;
    this.at = (this.at + 1) % MAX_KNOWN;
  }

  startFor(base: number, offset: number): number {
    let start = base;
    for (const k of this.ring) if (k > start && k <= offset) start = k;
    return start;
  }
}

/**
 * A reader in another process remembers nothing: its writer may crash and
 * recovery may cut and rewrite the tail, so yesterday's boundary can be
 * inside today's record.
 */
export const NO_KNOWN_BOUNDARIES: KnownBoundaries = {
  remember: () => undefined,
  startFor: (base) => base,
};
