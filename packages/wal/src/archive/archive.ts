import { join } from 'node:path';
import { ioError } from '../errors.js';
import { HEADER_SIZE } from '../format/constants.js';
import { segmentName } from '../format/segmentName.js';
import { createDirectories } from '../io/directories.js';
import { copyOpenFile } from '../io/fileCopy.js';
import type { FileIO } from '../io/fileIO.js';
import { listSegmentFiles, type SegmentFile } from '../recovery/segmentFiles.js';
import { hasErrno } from '../shared/errno.js';

/**
 * The archive tier (docs/operations.md, "Archive"): cleanup moves whole
 * sealed segments into `archiveDir` instead of deleting them, and the
 * writer reads them from there. A segment is immutable once sealed, so a
 * move changes nothing in it: a rename when the archive is on the journal's
 * file system, else a copy (synced) that replaces nothing until it is
 * whole, then the unlink of the original.
 */

/** Moves a sealed segment's file into the archive, durably; returns its new path. */
export function moveToArchive(io: FileIO, segmentPath: string, name: string, dir: string, archiveDir: string): string {
  createDirectories(io, archiveDir);
  const target = join(archiveDir, name);
  try {
    io.rename(segmentPath, target);
  } catch (err) {
    if (!hasErrno(err, 'EXDEV')) throw ioError('archiving', segmentPath, err);
    copyDurably(io, segmentPath, target);
    try {
      io.syncDir(archiveDir);
      io.unlink(segmentPath);
    } catch (unlinkErr) {
      throw ioError('archiving', segmentPath, unlinkErr);
    }
  }
  try {
    io.syncDir(archiveDir);
    io.syncDir(dir);
  } catch (err) {
    throw ioError('syncing the directories after archiving', segmentPath, err);
  }
  return target;
}

/** A synced copy under a temporary name, renamed into place whole (copyOpenFile). */
function copyDurably(io: FileIO, from: string, to: string): void {
  let src: number;
  try {
    src = io.open(from, 'r');
  } catch (err) {
    throw ioError('archiving', from, err);
  }
  try {
    copyOpenFile(io, src, io.size(src), to);
  } finally {
    io.close(src);
  }
}

export interface ArchivedRun {
  /** The archived segments that run up to the journal's first live segment without a gap, oldest first. */
  segments: SegmentFile[];
  /**
   * When that run does not reach back to offset 0: the offset below which
   * history is gone and, when an older archive file says where the missing
   * one starts, the missing file's path.
   */
  missing: { below: number; file: string | undefined } | undefined;
}

/**
 * The archived segments a journal whose first live segment starts at
 * `liveFirst` can read: the contiguous run of archive files ending there.
 * Files before a gap are not part of the log (its history has a hole); the
 * first missing one is named.
 */
export function archivedRun(io: FileIO, archiveDir: string, liveFirst: number): ArchivedRun {
  let files: SegmentFile[];
  try {
    files = io.stat(archiveDir)?.isDirectory ? listSegmentFiles(io, archiveDir) : [];
  } catch {
    files = [];
  }
  const run: SegmentFile[] = [];
  let end = liveFirst;
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i]!;
    if (f.base >= end) continue; // a copy of a live segment (an interrupted move): the live one counts
    if (f.base + f.size - HEADER_SIZE !== end) break;
    run.unshift(f);
    end = f.base;
  }
  if (end === 0) return { segments: run, missing: undefined };
  const older = files.filter((f) => f.base < end).at(-1);
  return { segments: run, missing: { below: end, file: older ? join(archiveDir, segmentName(older.base + older.size - HEADER_SIZE)) : undefined } };
}
