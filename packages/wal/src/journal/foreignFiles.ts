import { join } from 'node:path';
import { NotAJournalError } from '../errors.js';
import { parseSegmentName } from '../format/segmentName.js';
import { isAtomicTempFile } from '../io/atomicFile.js';
import type { FileIO } from '../io/fileIO.js';
import { RECOVERY_POINT_FILE } from '../recovery/recoveryPoint.js';
import { PUBLISHED_HEAD_FILE } from './publishedHead.js';
import { LOCK_FILE } from './writerLock.js';

/** Files a journal directory holds besides its segments (its subdirectories are its own too: quarantine, consumers, projections). */
const OWN_FILES: ReadonlySet<string> = new Set([LOCK_FILE, RECOVERY_POINT_FILE, PUBLISHED_HEAD_FILE]);

/**
 * Refuses to make a journal in a directory that holds files of something
 * else and no segment: a mistyped path (`episteme-wal append ~`) would
 * otherwise get segment and lock files among its own, and `recover` or
 * `verify` would then disagree with `append` on what the directory is. An
 * empty directory, or one left with only the journal's own files and
 * subdirectories, is fine. A reader (`reading`) refuses the same
 * directories: opened as an empty log, a mistyped path would read as a
 * journal with nothing in it.
 */
export function refuseForeignDirectory(io: FileIO, dir: string, reading = false): void {
  const names = io.readdir(dir);
  if (names.some((n) => parseSegmentName(n) !== undefined)) return;
  const foreign = names.filter((n) => !OWN_FILES.has(n) && !isAtomicTempFile(n) && io.stat(join(dir, n))?.isDirectory !== true).sort();
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, and ${foreign.length - 3} more` : '');
  const why = reading ? 'no writer made a journal there' : 'a journal is made only in a new or empty directory';
  throw new NotAJournalError(dir, `it holds other files (${shown}) and no segment file; ${why}`);
}
