import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { FileIO } from '../io/fileIO.js';
import { parseSegmentName } from '../format/segmentName.js';
import { hasErrno } from '../shared/errno.js';
import { BackupTargetError } from './errors.js';
import { hasManifest } from './manifest.js';

/** The real path of `p`, or of its nearest existing parent joined with the rest (a target not made yet). */
export function realPathOf(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch (err) {
    if (!hasErrno(err, 'ENOENT')) throw err;
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPathOf(parent), basename(abs));
  }
}

const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/**
 * Where a backup of `journal` may go: not the journal or a directory in it
 * (the writer's files and the backup's would mix, and the backup would back
 * itself up), not a directory holding the journal, and either new, empty,
 * or an earlier backup (then it is incremental). Returns whether it holds
 * an earlier backup.
 */
export function checkBackupTarget(io: FileIO, journal: string, dest: string, archive?: string): { incremental: boolean } {
  const target = realPathOf(dest);
  for (const dir of archive === undefined ? [journal] : [journal, archive]) {
    const src = realPathOf(dir);
    if (within(target, src)) throw new BackupTargetError(dest, 'inside-journal', `it is the journal's directory ${dir} or a directory inside it`);
    if (within(src, target)) throw new BackupTargetError(dest, 'journal-inside-target', `the journal's directory ${dir} is inside it`);
  }
  const names = listedOrNone(io, dest);
  if (names === undefined || names.length === 0) return { incremental: false };
  if (hasManifest(io, dest)) return { incremental: true };
  throw new BackupTargetError(dest, 'not-empty', `it is a non-empty directory that holds no backup (${shown(names)})`);
}

/** Where a backup may be restored: a new or empty directory, outside the backup. */
export function checkRestoreTarget(io: FileIO, backup: string, dir: string): void {
  const from = realPathOf(backup);
  const target = realPathOf(dir);
  if (within(target, from) || within(from, target)) throw new BackupTargetError(dir, 'inside-journal', `it is the backup ${backup}, inside it, or holds it`);
  const names = listedOrNone(io, dir);
  if (names === undefined || names.length === 0) return;
  if (names.some((n) => parseSegmentName(n) !== undefined)) {
    throw new BackupTargetError(dir, 'holds-journal', 'it holds a journal (a writer may be running on it); restore into a new or empty directory');
  }
  throw new BackupTargetError(dir, 'not-empty', `restore writes only into a new or empty directory, and it holds ${shown(names)}`);
}

/** The names in `dir`; undefined when it does not exist; a typed refusal when it is not a directory. */
function listedOrNone(io: FileIO, dir: string): string[] | undefined {
  const st = io.stat(dir);
  if (!st) return undefined;
  if (!st.isDirectory) throw new BackupTargetError(dir, 'not-a-directory', 'it is not a directory');
  return io.readdir(dir);
}

function shown(names: string[]): string {
  const sorted = [...names].sort();
  return sorted.slice(0, 3).join(', ') + (sorted.length > 3 ? `, and ${sorted.length - 3} more` : '');
}
