import { dirname, join } from 'node:path';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../format/constants.js';
import { createDirectories } from '../io/directories.js';
import { unlinkQuietly } from '../io/closers.js';
import { nodeFileIO, type FileIO } from '../io/fileIO.js';
import { ioError } from '../errors.js';
import { captureJournal, type Capture, type StatePositions } from './capture.js';
import { copyOpenFile, crcHex, crcOfOpenFile, isCopyTemp, syncFiles, tryHardLink, writeWholeFile } from '../io/fileCopy.js';
import { readManifest, writeManifest, type Manifest, type ManifestEntry } from './manifest.js';
import { checkBackupTarget, realPathOf } from './targets.js';
import { verifyBackup } from './verifyBackup.js';

export interface BackupOptions {
  /** The journal directory; its writer may be running. */
  dir: string;
  /** Where the backup goes: a new or empty directory, or one holding an earlier backup of this journal (incremental). */
  dest: string;
  io?: FileIO;
  /** The largest payload the journal may hold (default 16 MiB), as for a reader. */
  maxPayloadBytes?: number;
  /** Hard-link sealed segments when `dest` is on the journal's file system (default true); copied otherwise. */
  hardLinks?: boolean;
  /** How the layers above read the positions their files name (cursors, checkpoints): checked against the head. */
  statePositions?: readonly StatePositions[];
  /** The journal's archive (JournalOptions.archiveDir): its segments go into the backup as the oldest of the log. */
  archiveDir?: string;
  /** Called as bytes are copied and verified. */
  onProgress?: (progress: BackupProgress) => void;
}

export interface BackupProgress {
  phase: 'copy' | 'verify';
  bytesDone: number;
  bytesTotal: number;
}

export interface BackupReport {
  source: string;
  dest: string;
  /** The head the backup ends at (a synced head of the journal at the moment it was taken). */
  head: number;
  earliest: number;
  takenAt: string;
  /** An earlier backup was in `dest`: its sealed segments were kept. */
  incremental: boolean;
  segments: { copied: number; linked: number; kept: number };
  /** Bytes written by copying (segments and state files); linked and kept segments cost none. */
  bytesCopied: number;
  bytesLinked: number;
  bytesKept: number;
  stateFiles: number;
  /** Files of the earlier backup that this one no longer holds (segments the journal's cleanup deleted since). */
  removed: string[];
  /** Bytes read back and checked against the manifest. */
  bytesVerified: number;
}

/**
 * An online backup of a journal (docs/operations.md, "Backup and restore"):
 * the journal at one instant (see captureJournal), written to `dest` with a
 * manifest, then verified. Sealed segments are hard-linked when `dest` is
 * on the same file system (they never change; a link costs no copy) and
 * copied otherwise; into an earlier backup, sealed segments it already
 * holds are kept. The last segment is copied up to the head. The manifest
 * is written last: a backup interrupted before it is not one, and one
 * interrupted while updating an earlier backup is refused by restore (its
 * files no longer match) until the next backup into it completes.
 */
export async function backupJournal(options: BackupOptions): Promise<BackupReport> {
  const io = options.io ?? nodeFileIO;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const { incremental } = checkBackupTarget(io, options.dir, options.dest, options.archiveDir);
  const earlier = incremental ? readManifest(io, options.dest) : undefined;
  const capture = await captureJournal(io, options.dir, maxPayloadBytes, options.statePositions, options.archiveDir);
  const report: BackupReport = {
    source: realPathOf(options.dir),
    dest: options.dest,
    head: capture.head,
    earliest: capture.earliest,
    takenAt: capture.takenAt.toISOString(),
    incremental,
    segments: { copied: 0, linked: 0, kept: 0 },
    bytesCopied: 0,
    bytesLinked: 0,
    bytesKept: 0,
    stateFiles: capture.state.length,
    removed: [],
    bytesVerified: 0,
  };
  let manifest: Manifest;
  try {
    createDirectories(io, options.dest);
    removeTemps(io, options.dest);
    manifest = writeFiles(io, options, capture, earlier, report);
  } finally {
    capture.close();
  }
  writeManifest(io, options.dest, manifest);
  report.removed = removeStale(io, options.dest, earlier, manifest);
  const total = manifest.files.reduce((n, f) => n + f.size, 0);
  verifyBackup(io, options.dest, manifest, {
    maxPayloadBytes,
    checks: options.statePositions ?? [],
    done: (n) => {
      report.bytesVerified += n;
      options.onProgress?.({ phase: 'verify', bytesDone: report.bytesVerified, bytesTotal: total });
    },
  });
  return report;
}

function writeFiles(io: FileIO, options: BackupOptions, capture: Capture, earlier: Manifest | undefined, report: BackupReport): Manifest {
  const dest = options.dest;
  const kept = new Map((earlier?.files ?? []).filter((f) => f.kind === 'segment').map((f) => [f.path, f]));
  const files: ManifestEntry[] = [];
  const copied: string[] = [];
  const total = capture.segments.reduce((n, s) => n + s.length, 0) + capture.state.reduce((n, f) => n + f.bytes.length, 0);
  let done = 0;
  const progress = (n: number): void => {
    done += n;
    options.onProgress?.({ phase: 'copy', bytesDone: done, bytesTotal: total });
  };
  for (const s of capture.segments) {
    const target = join(dest, s.name);
    const before = kept.get(s.name);
    if (s.sealed && before && before.size === s.length && io.stat(target)?.size === s.length) {
      // immutable: the earlier backup's copy is this segment (verified below with the rest)
      files.push(before);
      report.segments.kept++;
      report.bytesKept += s.length;
      progress(s.length);
      continue;
    }
    if (s.sealed && options.hardLinks !== false && tryHardLink(io, s.path, target)) {
      files.push({ path: s.name, size: s.length, crc32c: crcHex(crcOfOpenFile(io, s.fd, s.length, progress)), kind: 'segment' });
      report.segments.linked++;
      report.bytesLinked += s.length;
      continue;
    }
    const crc = copyOpenFile(io, s.fd, s.length, target, progress, true);
    copied.push(target);
    files.push({ path: s.name, size: s.length, crc32c: crcHex(crc), kind: s.sealed ? 'segment' : 'last-segment' });
    report.segments.copied++;
    report.bytesCopied += s.length;
  }
  for (const f of capture.state) {
    const target = join(dest, ...f.path.split('/'));
    createDirectories(io, dirname(target));
    const crc = writeWholeFile(io, f.bytes, target);
    files.push({ path: f.path, size: f.bytes.length, crc32c: crcHex(crc), kind: 'state' });
    report.bytesCopied += f.bytes.length;
    progress(f.bytes.length);
  }
  // the copies synced together (the manifest, written after, is what makes them a backup)
  syncFiles(io, copied);
  for (const d of new Set(files.map((f) => dirname(join(dest, ...f.path.split('/')))))) syncDir(io, d);
  return { format: 1, createdAt: report.takenAt, source: report.source, head: capture.head, earliest: capture.earliest, files };
}

/** Files the earlier manifest listed and this one does not (segments the journal deleted since, a consumer deleted). */
function removeStale(io: FileIO, dest: string, earlier: Manifest | undefined, manifest: Manifest): string[] {
  if (!earlier) return [];
  const now = new Set(manifest.files.map((f) => f.path));
  const removed = earlier.files.filter((f) => !now.has(f.path) && unlinkQuietly(io, join(dest, ...f.path.split('/')))).map((f) => f.path);
  if (removed.length > 0) for (const d of new Set(removed.map((p) => dirname(join(dest, ...p.split('/')))))) syncDir(io, d);
  return removed;
}

/** Temporary files an interrupted backup left in the top directory. */
function removeTemps(io: FileIO, dest: string): void {
  for (const name of io.readdir(dest)) if (isCopyTemp(name)) unlinkQuietly(io, join(dest, name));
}

function syncDir(io: FileIO, dir: string): void {
  try {
    io.syncDir(dir);
  } catch (err) {
    throw ioError('syncing the directory', dir, err);
  }
}
