import type { FileIO } from './fileIO.js';

/*
 * Clean-up steps whose failure must not replace the error being handled or
 * stop a close: each call site says why ignoring it is safe.
 */

/** Closes `fd`, ignoring a failure: the descriptor is released either way. */
export function closeQuietly(io: FileIO, fd: number): void {
  try {
    io.close(fd);
  } catch {
    // closed either way
  }
}

/** Removes `path`; false when that failed (absent already, or refused). */
export function unlinkQuietly(io: FileIO, path: string): boolean {
  try {
    io.unlink(path);
    return true;
  } catch {
    return false;
  }
}
