import { NotAJournalError } from '../errors.js';
import { nodeFileIO } from '../io/fileIO.js';
import { listSegmentFilesSettled, type SegmentFile } from '../recovery/segmentFiles.js';

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
