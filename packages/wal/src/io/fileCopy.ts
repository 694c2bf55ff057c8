import { linkSync } from 'node:fs';
import { checksums } from '../checksum/index.js';
import { ioError } from '../errors.js';
import { unlinkQuietly } from './closers.js';
import { readFully, writeFully, type FileIO } from './fileIO.js';
import { hasErrno } from '../shared/errno.js';

/** Copies and checksums in pieces of this size: large enough for few calls, small enough to keep memory flat. */
const CHUNK = 1024 * 1024;

/** Counts bytes as they are read, for progress. */
export type BytesDone = (n: number) => void;

export function crcHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}

/** CRC32C of an open file's first `size` bytes, read in pieces; throws when the file is shorter. */
export function crcOfOpenFile(io: FileIO, fd: number, size: number, done?: BytesDone): number {
  const buf = new Uint8Array(Math.min(CHUNK, Math.max(size, 1)));
  let crc = 0;
  for (let pos = 0; pos < size; ) {
    const n = readFully(io, fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n === 0) throw Object.assign(new Error(`file ended at ${pos} of ${size} bytes`), { code: 'ESHORT' });
    crc = checksums().crc32c(buf, 0, n, crc);
    pos += n;
    done?.(n);
  }
  return crc;
}

/**
 * Writes the first `length` bytes of `srcFd` to `dest` atomically: into a
 * temporary name, renamed over `dest` (an earlier backup's file stays whole
 * until then), synced before the rename unless `deferSync` (then the caller
 * syncs it with syncFiles before anything depends on it: a backup copies
 * every file first and syncs them together, so that the disk writes one
 * while the next is copied). Returns the CRC32C of what was written,
 * computed from the same bytes. The caller syncs the directory.
 */
export function copyOpenFile(io: FileIO, srcFd: number, length: number, dest: string, done?: BytesDone, deferSync = false): number {
  const tmp = tempName(dest);
  try {
    const out = io.open(tmp, 'w');
    let crc = 0;
    try {
      const buf = new Uint8Array(Math.min(CHUNK, Math.max(length, 1)));
      for (let pos = 0; pos < length; ) {
        const n = readFully(io, srcFd, buf, 0, Math.min(buf.length, length - pos), pos);
        if (n === 0) throw Object.assign(new Error(`source ended at ${pos} of ${length} bytes`), { code: 'ESHORT' });
        crc = checksums().crc32c(buf, 0, n, crc);
        writeFully(io, out, buf, 0, n, pos);
        pos += n;
        done?.(n);
      }
      if (!deferSync) io.fsync(out);
    } finally {
      io.close(out);
    }
    io.rename(tmp, dest);
    return crc;
  } catch (err) {
    unlinkQuietly(io, tmp);
    throw ioError('copying to', dest, err);
  }
}

/** Syncs files written with `deferSync`. */
export function syncFiles(io: FileIO, paths: Iterable<string>): void {
  for (const path of paths) {
    try {
      const fd = io.open(path, 'r');
      try {
        io.fsync(fd);
      } finally {
        io.close(fd);
      }
    } catch (err) {
      throw ioError('syncing', path, err);
    }
  }
}

/** Writes `bytes` to `dest` the same way (a state file read into memory). */
export function writeWholeFile(io: FileIO, bytes: Uint8Array, dest: string): number {
  const tmp = tempName(dest);
  try {
    const out = io.open(tmp, 'w');
    try {
      writeFully(io, out, bytes, 0, bytes.length, 0);
      io.fsync(out);
    } finally {
      io.close(out);
    }
    io.rename(tmp, dest);
  } catch (err) {
    unlinkQuietly(io, tmp);
    throw ioError('writing', dest, err);
  }
  return checksums().crc32c(bytes, 0, bytes.length, 0);
}

/**
 * Hard-links `src` as `dest` (through a temporary name, renamed over an
 * earlier backup's file). False when a link cannot be made here: another
 * file system (EXDEV), a file system without links (EPERM, ENOTSUP), or
 * the source is gone (cleanup deleted it since it was opened: the caller
 * copies from its open descriptor instead).
 */
export function tryHardLink(io: FileIO, src: string, dest: string): boolean {
  const tmp = tempName(dest);
  try {
    linkSync(src, tmp);
  } catch (err) {
    if (hasErrno(err, 'EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOENT', 'EMLINK')) return false;
    throw ioError('linking to', dest, err);
  }
  try {
    io.rename(tmp, dest);
  } catch (err) {
    unlinkQuietly(io, tmp);
    throw ioError('renaming a link to', dest, err);
  }
  return true;
}

function tempName(dest: string): string {
  return `${dest}.${process.pid}.copy-tmp`;
}

/** Whether a name is one of the temporary files above, left by an interrupted copy (a backup, a restore, an archive move). */
export function isCopyTemp(name: string): boolean {
  return /\.\d+\.copy-tmp$/.test(name);
}
