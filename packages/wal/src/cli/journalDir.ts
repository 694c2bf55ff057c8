import { NotAJournalError } from '../errors.js';
import { nodeFileIO } from '../io/fileIO.js';
import { listSegmentFiles, type SegmentFile } from '../recovery/segmentFiles.js';

/**
 * The segments of `dir`, refusing a directory without any: every command,
 * `recover` above all, must not treat a typo'd or empty path as an empty
 * journal (recovery would happily report head 0 for it).
 */
export function journalSegments(dir: string): SegmentFile[] {
  const segments = listSegmentFiles(nodeFileIO, dir);
  if (segments.length === 0) {
    throw new NotAJournalError(dir, 'it holds no segment files (<16 hex digits>.wal)');
  }
  return segments;
}
