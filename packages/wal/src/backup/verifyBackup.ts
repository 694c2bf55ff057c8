import { join } from 'node:path';
import { HEADER_SIZE } from '../format/constants.js';
import { parseSegmentName } from '../format/segmentName.js';
import type { FileIO } from '../io/fileIO.js';
import { scanSegment } from '../recovery/scanSegment.js';
import { hasErrno } from '../shared/errno.js';
import { checkPositions, type StatePositions } from './capture.js';
import { BackupDamagedError } from './errors.js';
import { crcHex, crcOfOpenFile, type BytesDone } from '../io/fileCopy.js';
import type { Manifest } from './manifest.js';

/**
 * Checks a backup against its manifest: every file there, of its size and
 * CRC32C; the segments contiguous from `earliest`, the last one ending at
 * `head` on a whole record (so that a journal restored from it opens with no
 * recovery cut: its records are checked as recovery checks them, CRC32C
 * and BLAKE3); no state file naming a position beyond the head (with the
 * checks of the layers above). The first problem is thrown as a
 * BackupDamagedError naming the file.
 */
export function verifyBackup(io: FileIO, dir: string, manifest: Manifest, options: { maxPayloadBytes: number; checks?: readonly StatePositions[]; done?: BytesDone }): void {
  const state: { path: string; bytes: Uint8Array }[] = [];
  for (const entry of manifest.files) {
    const fd = openVerified(io, dir, entry, options.done);
    try {
      const size = entry.size;
      if (entry.kind === 'last-segment' || entry === lastSegmentOf(manifest)) checkLastSegment(io, fd, dir, entry.path, options.maxPayloadBytes);
      if (entry.kind === 'state' && options.checks?.length) {
        const bytes = new Uint8Array(size);
        io.read(fd, bytes, 0, size, 0);
        state.push({ path: entry.path, bytes });
      }
    } finally {
      io.close(fd);
    }
  }
  checkContiguity(dir, manifest);
  try {
    checkPositions(state, options.checks ?? [], manifest.head);
  } catch (err) {
    throw new BackupDamagedError(dir, MANIFEST_NAME, String((err as Error).message));
  }
}

const MANIFEST_NAME = 'BACKUP_MANIFEST';

/**
 * Opens a file of the backup in `dir` and checks it against its manifest
 * entry (there, of its size, of its CRC32C); returns the open descriptor,
 * which the caller closes. BackupDamagedError naming the file otherwise.
 * Exported through `@episteme/wal/internals` for the files an app adds to
 * its backups.
 */
export function openVerified(io: FileIO, dir: string, entry: { path: string; size: number; crc32c: string }, done?: BytesDone): number {
  const path = join(dir, ...entry.path.split('/'));
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (err) {
    throw new BackupDamagedError(dir, entry.path, hasErrno(err, 'ENOENT') ? 'is missing' : `cannot be opened (${String(err)})`);
  }
  try {
    const size = io.size(fd);
    if (size !== entry.size) throw new BackupDamagedError(dir, entry.path, `has ${size} bytes, the manifest says ${entry.size}`);
    let crc: string;
    try {
      crc = crcHex(crcOfOpenFile(io, fd, size, done));
    } catch (err) {
      throw new BackupDamagedError(dir, entry.path, `cannot be read (${String(err)})`);
    }
    if (crc !== entry.crc32c) throw new BackupDamagedError(dir, entry.path, `fails its checksum (CRC32C ${crc}, the manifest says ${entry.crc32c})`);
    return fd;
  } catch (err) {
    io.close(fd);
    throw err;
  }
}

function lastSegmentOf(manifest: Manifest): Manifest['files'][number] | undefined {
  return manifest.files.filter((f) => f.kind !== 'state').at(-1);
}

/** The segments run from `earliest` to `head` without a gap or an overlap. */
function checkContiguity(dir: string, manifest: Manifest): void {
  const segments = manifest.files.filter((f) => f.kind !== 'state');
  if (segments.length === 0) throw new BackupDamagedError(dir, MANIFEST_NAME, 'lists no segment');
  let expected = manifest.earliest;
  for (const s of segments) {
    const base = parseSegmentName(s.path);
    if (base !== expected) throw new BackupDamagedError(dir, s.path, `is not the segment the log needs next (expected base ${expected})`);
    expected = base + s.size - HEADER_SIZE;
  }
  if (expected !== manifest.head) throw new BackupDamagedError(dir, segments.at(-1)!.path, `ends at offset ${expected}, the manifest's head is ${manifest.head}`);
}

/** The segment holding the head ends on a whole, valid record: what a writer's recovery would find. */
function checkLastSegment(io: FileIO, fd: number, dir: string, path: string, maxPayloadBytes: number): void {
  const size = io.size(fd);
  const scan = scanSegment(io, fd, { maxPayloadBytes, size });
  if (scan.end !== size) throw new BackupDamagedError(dir, path, `has an invalid record at file position ${scan.failure?.position ?? scan.end} (${scan.failure?.reason ?? 'unknown'}): a journal restored from it would be cut there`);
}
