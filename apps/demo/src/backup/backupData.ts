import { join } from 'node:path';
import { CURSOR_POSITIONS } from '@episteme/consumers';
import { SNAPSHOT_POSITIONS } from '@episteme/projections';
import { STREAM_INDEX_POSITIONS } from '@episteme/store';
import { backupJournal, BackupTargetError, createDirectories, nodeFileIO, type BackupProgress, type BackupReport } from '@episteme/wal';
import { checksums, crcHex, replaceFileAtomically } from '@episteme/wal/internals';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { APP_MANIFEST_FILE, JOURNAL_DIR, verifyAppFiles, writeAppManifest, type AppManifest } from './appManifest.js';

/** Where the app keeps its audit export, relative to the data directory (container.ts). */
export const AUDIT_FILE = ['audit', 'assertions.ndjson'] as const;

export interface DataBackupReport extends BackupReport {
  /** Lines of the audit export written to the backup (those below the head). */
  auditLines: number;
}

/**
 * `episteme backup <dest>`: the app's data directory while the app may run,
 * restored whole with `episteme restore <dest> <dir>` (restoreData).
 * `<dest>/journal` is a backup of the journal (`backupJournal`, with the
 * checks of the cursors, snapshots and stream index of the layers above;
 * `episteme-wal restore` restores it alone).
 * `<dest>/audit/assertions.ndjson` is the audit export as of that head:
 * read after the journal's backup, it holds every line up to the audit
 * consumer's cursor in it (the exporter syncs its lines before the cursor
 * moves), and the lines at or past the head are left out, so that after a
 * restore the exporter does not take the new events at those positions for
 * ones it exported. `<dest>/APP_BACKUP_MANIFEST`, written last, ties the
 * two together (appManifest.ts); the audit file is read back against it
 * before the backup reports success.
 */
export async function backupData(dataDir: string, dest: string, onProgress?: (p: BackupProgress) => void): Promise<DataBackupReport> {
  const io = nodeFileIO;
  refuseForeignTarget(dest);
  const report = await backupJournal({
    dir: join(dataDir, JOURNAL_DIR),
    dest: join(dest, JOURNAL_DIR),
    statePositions: [CURSOR_POSITIONS, SNAPSHOT_POSITIONS, STREAM_INDEX_POSITIONS],
    // the archived history goes in too: restored, the journal holds it live
    archiveDir: join(dataDir, 'archive'),
    ...(onProgress && { onProgress }),
  });
  const lines = auditLinesBelow(join(dataDir, ...AUDIT_FILE), report.head);
  const audit = Buffer.from(lines.join(''));
  createDirectories(io, join(dest, AUDIT_FILE[0]));
  replaceFileAtomically(io, join(dest, ...AUDIT_FILE), audit);
  const manifest: AppManifest = {
    format: 1,
    head: report.head,
    journalTakenAt: report.takenAt, // the journal manifest's createdAt
    files: [{ path: AUDIT_FILE.join('/'), size: audit.length, crc32c: crcHex(checksums().crc32c(audit, 0, audit.length, 0)) }],
  };
  writeAppManifest(io, dest, manifest);
  verifyAppFiles(io, dest, manifest);
  return { ...report, auditLines: lines.length };
}

/** The app's backup directory holds `journal/`, `audit/` and its manifest, nothing else: anything more is someone else's directory. */
function refuseForeignTarget(dest: string): void {
  let names: string[];
  try {
    if (!statSync(dest).isDirectory()) throw new BackupTargetError(dest, 'not-a-directory', 'it is not a directory');
    names = readdirSync(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const foreign = names.filter((n) => n !== JOURNAL_DIR && n !== AUDIT_FILE[0] && n !== APP_MANIFEST_FILE);
  if (foreign.length > 0 || (names.length > 0 && !names.includes(JOURNAL_DIR))) {
    throw new BackupTargetError(dest, 'not-empty', `it is a non-empty directory that holds no backup of the app (${(foreign.length > 0 ? foreign : names).sort().slice(0, 3).join(', ')})`);
  }
}

/** The audit file's whole lines whose global position lies below `head` (a torn last line is the exporter's to cut, and left out). */
function auditLinesBelow(path: string, head: number): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    const m = /^\{"globalPosition":(\d+),/.exec(line);
    if (!m || Number(m[1]) >= head) break;
    out.push(line + '\n');
  }
  return out;
}
