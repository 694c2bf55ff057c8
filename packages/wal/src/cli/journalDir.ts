import { NotAJournalError } from '../errors.js';
import { nodeFileIO } from '../io/fileIO.js';
import { discontinuity, listSegmentFilesSettled, nextBase, type SegmentFile } from '../recovery/segmentFiles.js';

/**
 * The segments of `dir`, refusing a directory without any: every command,
 * `recover` above all, must not treat a typo'd or empty path as an empty
 * journal (recovery would happily report head 0 for it). Listed again while
 * not contiguous: a live writer's cleanup can make one listing show a hole
 * that is not in the log (see listSegmentFilesSettled).
 */
export function journalSegments(dir: string): SegmentFile[] {
  const segments = listSegmentFilesSettled(nodeFileIO, dir);
  if (segments.length === 0) {
    throw new NotAJournalError(dir, 'it holds no segment files (<16 hex digits>.wal)');
  }
  return segments;
}

export interface Hole {
  /** Where the segment before the hole ends. */
  end: number;
  next: SegmentFile;
  /** For a human: where, what, and what to run. */
  describe: string;
}

/** The gap or overlap between segment `i` and the next one, if any (a sealed segment ends at its size). */
export function holeAfter(segments: readonly SegmentFile[], i: number): Hole | undefined {
  const seg = segments[i]!;
  const next = segments[i + 1];
  const words = next && discontinuity(seg, next);
  if (!next || !words) return undefined;
  const end = nextBase(seg);
  const why = end < next.base ? ' (a segment file is missing or was cut short)' : '';
  return { end, next, describe: `${words}${why}; \`episteme-wal verify\` lists the damage` };
}
