import { join } from 'node:path';
import { MANIFEST_FILE, NotABackupError, type FileIO, type ManifestEntry } from '@episteme/wal';
import { isFileEntry, openVerified, readSealedJson, replaceFileAtomically, sealEnvelope, type EnvelopeLayout } from '@episteme/wal/internals';

/**
 * The manifest of an app backup (`episteme backup <dest>`), written last,
 * after the journal's backup in `<dest>/journal` (with its own
 * BACKUP_MANIFEST) and the app's files: it names the journal backup it goes
 * with (its head and the moment it was taken) and lists the app's files
 * (the audit export) with their sizes and CRC32C. A backup interrupted
 * while it updated an earlier one leaves a journal backup or files this
 * manifest does not describe: restore refuses it until the next backup
 * into it completes.
 */
export const APP_MANIFEST_FILE = 'APP_BACKUP_MANIFEST';
/** The journal's backup inside an app backup, and the journal inside a data directory. */
export const JOURNAL_DIR = 'journal';

const ENVELOPE: EnvelopeLayout = { magic: 'episteme-app-backup v1', length: true, kind: 'app backup manifest' };

/** One app file: its path is relative to the backup and to the data directory alike. */
export type AppManifestEntry = Omit<ManifestEntry, 'kind'>;

export interface AppManifest {
  format: 1;
  /** The journal backup's head and `createdAt` (its BACKUP_MANIFEST): the app's files are as of that head. */
  head: number;
  journalTakenAt: string;
  files: AppManifestEntry[];
}

export function writeAppManifest(io: FileIO, dir: string, manifest: AppManifest): void {
  replaceFileAtomically(io, join(dir, APP_MANIFEST_FILE), sealEnvelope(ENVELOPE, Buffer.from(JSON.stringify(manifest, null, 1))));
}

/** The manifest of an app backup; NotABackupError without one, BackupDamagedError for a damaged one. */
export function readAppManifest(io: FileIO, dir: string): AppManifest {
  return readSealedJson(io, dir, APP_MANIFEST_FILE, ENVELOPE, isAppManifest, () => {
    // a journal's own backup (episteme-wal backup, or <dest>/journal of an app backup) is restored by episteme-wal
    const hint = io.stat(join(dir, MANIFEST_FILE))?.isFile ? ` (it is a journal's backup: restore it with episteme-wal restore ${dir} <data>/${JOURNAL_DIR})` : '';
    return new NotABackupError(dir, `no ${APP_MANIFEST_FILE}${hint}`);
  });
}

function isAppManifest(v: unknown): v is AppManifest {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Partial<AppManifest>;
  return (
    m.format === 1 &&
    Number.isSafeInteger(m.head) &&
    typeof m.journalTakenAt === 'string' &&
    Array.isArray(m.files) &&
    m.files.every((f) => isFileEntry(f) && appFilePath(f.path))
  );
}

/** An app file's path (inside the backup: isFileEntry) stays out of the journal (a hand-edited manifest must not make restore write elsewhere). */
function appFilePath(path: string): boolean {
  const top = path.split('/')[0];
  return top !== JOURNAL_DIR && top !== APP_MANIFEST_FILE;
}

/** Checks each app file of the backup in `dir` against the manifest: there, of its size and CRC32C; BackupDamagedError naming the first that is not. */
export function verifyAppFiles(io: FileIO, dir: string, manifest: AppManifest): void {
  for (const entry of manifest.files) io.close(openVerified(io, dir, entry));
}
