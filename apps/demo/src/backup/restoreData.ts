import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BackupDamagedError, nodeFileIO, type FileIO, readManifest, restoreBackup, type RestoreOptions, type RestoreReport } from '@episteme/wal';
import { checkRestoreTarget, copyBackupFiles } from '@episteme/wal/internals';
import { APP_MANIFEST_FILE, JOURNAL_DIR, readAppManifest, verifyAppFiles } from './appManifest.js';

export interface DataRestoreReport extends RestoreReport {
  /** The app's files restored besides the journal (the audit export). */
  appFiles: string[];
}

/**
 * `episteme restore <backup> <dir>`: makes a data directory from an app
 * backup (backupData). Refuses a target that is not new or empty, and
 * checks everything before it writes anything: the app manifest, that the
 * journal backup in it is the one the manifest names (an interrupted
 * backup, or one of `<backup>/journal` alone since, leaves another), the
 * app's files against the manifest, then (restoreBackup) every file of the
 * journal backup. Then the journal is restored into `<dir>/journal` and
 * the app's files copied and synced beside it. On a failure midway, what
 * it made is removed: the target was new or empty.
 */
export interface DataRestoreOptions {
  /** A backup written by backupData (holds APP_BACKUP_MANIFEST). */
  backup: string;
  /** The data directory to make: new or empty. */
  dir: string;
  maxPayloadBytes?: number;
  onProgress?: RestoreOptions['onProgress'];
  /** Over the real file system (what a failure leaves is removed with node:fs); tests inject faults through it. */
  io?: FileIO;
}

export function restoreData(options: DataRestoreOptions): DataRestoreReport {
  const { backup, dir, onProgress } = options;
  const io = options.io ?? nodeFileIO;
  const manifest = readAppManifest(io, backup);
  checkRestoreTarget(io, backup, dir);
  const journalBackup = join(backup, JOURNAL_DIR);
  const journal = readManifest(io, journalBackup);
  if (journal.head !== manifest.head || journal.createdAt !== manifest.journalTakenAt) {
    throw new BackupDamagedError(
      backup,
      `${JOURNAL_DIR}/BACKUP_MANIFEST`,
      `describes a backup at head ${journal.head} taken at ${journal.createdAt}, but ${APP_MANIFEST_FILE} was written with the one at head ${manifest.head} taken at ${manifest.journalTakenAt} (a backup into it was interrupted, or ${JOURNAL_DIR}/ was backed up alone since): run episteme backup into it again`,
    );
  }
  verifyAppFiles(io, backup, manifest);
  const createdDir = io.stat(dir) === undefined;
  let restored: RestoreReport | undefined;
  try {
    // verifies every file of the journal backup before it writes one
    restored = restoreBackup({ backup: journalBackup, dir: join(dir, JOURNAL_DIR), io, ...(options.maxPayloadBytes !== undefined && { maxPayloadBytes: options.maxPayloadBytes }), ...(onProgress && { onProgress }) });
    copyBackupFiles(io, backup, dir, manifest.files, []);
  } catch (err) {
    // the target was new or empty (checked above): everything in it is this restore's
    if (restored !== undefined) for (const name of [JOURNAL_DIR, ...new Set(manifest.files.map((f) => f.path.split('/')[0]!))]) rmSync(join(dir, name), { recursive: true, force: true });
    if (createdDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...restored,
    dir,
    files: restored.files + manifest.files.length,
    bytes: restored.bytes + manifest.files.reduce((n, f) => n + f.size, 0),
    appFiles: manifest.files.map((f) => f.path),
  };
}
