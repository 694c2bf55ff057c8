import { rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../format/constants.js';
import { createDirectories } from '../io/directories.js';
import { nodeFileIO, type FileIO } from '../io/fileIO.js';
import { ioError } from '../errors.js';
import { BackupDamagedError } from './errors.js';
import { copyOpenFile, crcHex, syncFiles, type BytesDone } from '../io/fileCopy.js';
import { readManifest } from './manifest.js';
import { checkRestoreTarget } from './targets.js';
import { verifyBackup } from './verifyBackup.js';

export interface RestoreOptions {
  /** A backup directory (one with a BACKUP_MANIFEST). */
  backup: string;
  /** Where the journal is made: a new or empty directory. */
  dir: string;
  io?: FileIO;
  maxPayloadBytes?: number;
  onProgress?: (progress: { phase: 'verify' | 'copy'; bytesDone: number; bytesTotal: number }) => void;
}

export interface RestoreReport {
  backup: string;
  dir: string;
  head: number;
  earliest: number;
  /** When the backup was taken. */
  takenAt: string;
  files: number;
  bytes: number;
}

/**
 * Makes a journal in `dir` from a backup: refuses a target that is not new
 * or empty (a live journal among them), verifies every file of the backup
 * against its manifest before it writes anything, then copies each file
 * (checked again as it is copied) and syncs it and its directory. The
 * journal ends on a whole record at the backup's head: its writer opens it
 * with no recovery cut. On a failure midway, what restore made is removed.
 */
export function restoreBackup(options: RestoreOptions): RestoreReport {
  const io = options.io ?? nodeFileIO;
  const manifest = readManifest(io, options.backup);
  checkRestoreTarget(io, options.backup, options.dir);
  const total = manifest.files.reduce((n, f) => n + f.size, 0);
  let verified = 0;
  verifyBackup(io, options.backup, manifest, {
    maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    done: (n) => options.onProgress?.({ phase: 'verify', bytesDone: (verified += n), bytesTotal: total }),
  });
  const made: string[] = [];
  const createdDir = io.stat(options.dir) === undefined;
  let copied = 0;
  try {
    createDirectories(io, options.dir);
    copyBackupFiles(io, options.backup, options.dir, manifest.files, made, (n) => options.onProgress?.({ phase: 'copy', bytesDone: (copied += n), bytesTotal: total }));
  } catch (err) {
    undo(io, options.dir, made, createdDir);
    throw err;
  }
  return { backup: options.backup, dir: options.dir, head: manifest.head, earliest: manifest.earliest, takenAt: manifest.createdAt, files: manifest.files.length, bytes: total };
}

/**
 * Copies `files` of the backup in `backup` into `dir`, each checked against
 * its CRC32C again as it is copied (another process may write into the
 * backup), then syncs them and their directories, together (the disk
 * writes one while the next is copied). Pushes each path it makes to
 * `made` as it goes, for the caller to undo on a failure. Exported through
 * `@episteme/wal/internals` for the files an app adds to its backups.
 */
export function copyBackupFiles(io: FileIO, backup: string, dir: string, files: readonly { path: string; size: number; crc32c: string }[], made: string[], done?: BytesDone): void {
  const mine: string[] = [];
  for (const f of files) {
    const target = join(dir, ...f.path.split('/'));
    createDirectories(io, dirname(target));
    const fd = io.open(join(backup, ...f.path.split('/')), 'r');
    let crc: number;
    try {
      crc = copyOpenFile(io, fd, f.size, target, done, true);
    } finally {
      io.close(fd);
    }
    made.push(target);
    mine.push(target);
    if (crcHex(crc) !== f.crc32c) throw new BackupDamagedError(backup, f.path, `changed while it was restored (CRC32C ${crcHex(crc)}, the manifest says ${f.crc32c})`);
  }
  syncFiles(io, mine);
  for (const d of new Set(mine.map((p) => dirname(p)))) {
    try {
      io.syncDir(d);
    } catch (err) {
      throw ioError('syncing the directory', d, err);
    }
  }
}

/** Removes the files restore made, then its directories, deepest first; leaves anything else. */
function undo(io: FileIO, dir: string, made: string[], createdDir: boolean): void {
  const dirs = new Set<string>();
  for (const p of made) {
    try {
      io.unlink(p);
    } catch {
      // best effort: the error being thrown says what failed
    }
    for (let d = dirname(p); d.length > dir.length; d = dirname(d)) dirs.add(d);
  }
  const rmdir = (d: string): void => {
    try {
      rmdirSync(d); // FileIO has no rmdir; only empty directories go
    } catch {
      // not empty or gone: left
    }
  };
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) rmdir(d);
  if (createdDir) rmdir(dir);
}
