import { join } from 'node:path';
import { replaceFileAtomically } from '../io/atomicFile.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { hasErrno } from '../shared/errno.js';
import { openEnvelope, sealEnvelope, type EnvelopeLayout } from '../shared/checksummedFile.js';
import { BackupDamagedError, NotABackupError } from './errors.js';

/** The file that makes a directory a backup; written last, so a backup is complete once it names it. */
export const MANIFEST_FILE = 'BACKUP_MANIFEST';

const ENVELOPE: EnvelopeLayout = { magic: 'episteme-backup v1', length: true, kind: 'backup manifest' };

/** One file of a backup. */
export interface ManifestEntry {
  /** Path relative to the backup directory, `/`-separated. */
  path: string;
  size: number;
  /** CRC32C of the whole file, 8 lower-case hex digits. */
  crc32c: string;
  /**
   * `segment`: a sealed segment (immutable: an incremental backup keeps it);
   * `last-segment`: the segment that held the head, cut there;
   * `state`: a consumer cursor, a projection snapshot, the stream index, any other file of the journal.
   */
  kind: 'segment' | 'last-segment' | 'state';
}

export interface Manifest {
  format: 1;
  /** ISO time the head was taken. */
  createdAt: string;
  /** The journal directory backed up (absolute). */
  source: string;
  /** The synced head the backup ends at: its last segment ends there, no state file names a position beyond it. */
  head: number;
  /** The base offset of its first segment. */
  earliest: number;
  files: ManifestEntry[];
}

export function writeManifest(io: FileIO, dir: string, manifest: Manifest): void {
  replaceFileAtomically(io, join(dir, MANIFEST_FILE), sealEnvelope(ENVELOPE, Buffer.from(JSON.stringify(manifest, null, 1))));
}

/** The manifest of `dir`; NotABackupError without one, BackupDamagedError for a damaged one. */
export function readManifest(io: FileIO, dir: string): Manifest {
  return readSealedJson(io, dir, MANIFEST_FILE, ENVELOPE, isManifest, () => new NotABackupError(dir, `no ${MANIFEST_FILE}`));
}

/**
 * The JSON body of the checksummed file `name` in the backup `dir`:
 * `missing()` when there is none, BackupDamagedError naming it when it
 * cannot be read, is damaged, is not JSON or not what `valid` accepts.
 * Exported through `@episteme/wal/internals` for an app's own manifest.
 */
export function readSealedJson<T>(io: FileIO, dir: string, name: string, layout: EnvelopeLayout, valid: (v: unknown) => v is T, missing: () => Error): T {
  const path = join(dir, name);
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (err) {
    if (hasErrno(err, 'ENOENT', 'ENOTDIR')) throw missing();
    throw new BackupDamagedError(dir, name, `cannot be read (${String(err)})`);
  }
  let bytes: Uint8Array;
  try {
    const size = io.size(fd);
    bytes = new Uint8Array(size);
    bytes = bytes.subarray(0, readFully(io, fd, bytes, 0, size, 0));
  } finally {
    io.close(fd);
  }
  const opened = openEnvelope(layout, bytes);
  if (!('body' in opened)) throw new BackupDamagedError(dir, name, `is damaged: ${opened.damage}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(opened.body.toString('utf8'));
  } catch (err) {
    throw new BackupDamagedError(dir, name, `is not JSON: ${String(err)}`);
  }
  if (!valid(parsed)) throw new BackupDamagedError(dir, name, 'lacks fields or has a format this version does not read');
  return parsed;
}

/** Whether `dir` holds a manifest file at all (damaged or not). */
export function hasManifest(io: FileIO, dir: string): boolean {
  return io.stat(join(dir, MANIFEST_FILE))?.isFile === true;
}

function isManifest(v: unknown): v is Manifest {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Partial<Manifest>;
  return (
    m.format === 1 &&
    Number.isSafeInteger(m.head) &&
    Number.isSafeInteger(m.earliest) &&
    Array.isArray(m.files) &&
    m.files.every((f) => isFileEntry(f) && (f.kind === 'segment' || f.kind === 'last-segment' || f.kind === 'state'))
  );
}

/**
 * A manifest's file entry: a path that stays inside the backup, a size, a
 * CRC32C. Exported through `@episteme/wal/internals` for an app's own
 * manifest.
 */
export function isFileEntry(f: unknown): f is Omit<ManifestEntry, 'kind'> & { kind?: unknown } {
  if (typeof f !== 'object' || f === null) return false;
  const e = f as Partial<ManifestEntry>;
  return typeof e.path === 'string' && safeRelative(e.path) && Number.isSafeInteger(e.size) && e.size! >= 0 && typeof e.crc32c === 'string' && /^[0-9a-f]{8}$/.test(e.crc32c);
}

/** A manifest path may not reach outside the backup (a hand-edited manifest must not make restore write elsewhere). */
function safeRelative(path: string): boolean {
  return path.length > 0 && !path.startsWith('/') && !path.includes('\0') && !path.split('/').some((p) => p === '..' || p === '.' || p === '');
}
