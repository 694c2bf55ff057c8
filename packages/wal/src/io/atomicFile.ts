import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { ioError } from '../errors.js';
import { unlinkQuietly } from './closers.js';
import { writeFully, type FileIO } from './fileIO.js';

/**
 * Replaces the file at `path` with `bytes`, atomically and durably: written
 * to a new temporary file, synced, renamed over `path`, directory synced.
 * After a crash at any moment `path` holds the old bytes or the new ones,
 * never a mix, never an empty file. The temporary name is unique per call
 * (pid and random), so two processes replacing the same file cannot
 * interleave inside one temporary file; a failed call removes its own.
 * Throws a WAL_IO error naming the step that failed.
 */
export function replaceFileAtomically(io: FileIO, path: string, bytes: Uint8Array): void {
  const tmp = tempNameFor(path);
  let step = 'creating';
  try {
    const fd = io.open(tmp, 'w');
    try {
      step = 'writing';
      writeFully(io, fd, bytes, 0, bytes.length, 0);
      step = 'syncing';
      io.fsync(fd);
    } finally {
      io.close(fd);
    }
    step = 'renaming';
    io.rename(tmp, path);
  } catch (err) {
    throw removeTemp(io, tmp, step, err);
  }
  try {
    io.syncDir(dirname(path));
  } catch (err) {
    throw ioError('syncing the directory of', path, err);
  }
}

function tempNameFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Removes a failed replacement's temp file and returns the error to throw. */
function removeTemp(io: FileIO, tmp: string, step: string, err: unknown): Error {
  unlinkQuietly(io, tmp); // when it fails, nothing was created or it is gone already: the old file is untouched either way
  return ioError(step, tmp, err);
}

/** True for the temporary files replaceFileAtomically leaves after a crash (`<name>.<pid>.<hex>.tmp`). */
export function isAtomicTempFile(name: string): boolean {
  return /\.\d+\.[0-9a-f]{12}\.tmp$/.test(name);
}
