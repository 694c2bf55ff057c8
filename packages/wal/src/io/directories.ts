import { dirname, resolve } from 'node:path';
import { NotAJournalError, ioError } from '../errors.js';
import type { FileIO } from './fileIO.js';

/**
 * Creates `dir` and any missing parents one level at a time, syncing the
 * parent of each directory created. A new directory's entry lives in its
 * parent; a recursive mkdir followed by one sync of the journal's parent
 * leaves the upper entries unsynced, and a power loss could then take the
 * whole journal directory with it. A path that names a file (or runs
 * through one) is not a journal: NotAJournalError, nothing created.
 */
export function ensureDirectory(io: FileIO, dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    const st = io.stat(p);
    if (st) {
      if (!st.isDirectory) throw new NotAJournalError(dir, p === resolve(dir) ? 'not a directory' : `${p} is not a directory`);
      break;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const p = missing[i]!;
    try {
      io.mkdir(p);
      // synced even when another process created it meanwhile: it may not have
      if (dirname(p) !== p) io.syncDir(dirname(p));
    } catch (err) {
      throw ioError('creating directory', p, err);
    }
  }
}
