import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { hasErrno } from '../shared/errno.js';

/**
 * Every file operation of the WAL goes through this interface, the way
 * SQLite's VFS and RocksDB's Env do: tests swap in implementations that
 * inject ENOSPC/EIO, short writes, failed syncs, or drop unsynced writes to
 * simulate power loss. Synchronous calls are used on purpose: an async fs call
 * costs 14-18 µs here against 2-5 µs (shared/notes/disk-and-peers.md), and
 * recovery and appends are hot paths. Only `fsync` has an async twin so that
 * a writer (and a cursor commit) can keep the event loop free while the disk
 * flushes.
 */
export interface FileIO {
  /** Opens a file. `flags` as in node:fs (`r`, `r+`, `wx`, `w`). */
  open(path: string, flags: string): number;
  close(fd: number): void;
  /** Reads up to `length` bytes at `position`; returns how many were read. */
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes at `position`; returns how many bytes were written (may be short). */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Flushes the file's data (and the metadata needed to read it back) to stable storage. */
  fsync(fd: number): void;
  fsyncAsync(fd: number): Promise<void>;
  truncate(fd: number, length: number): void;
  /** Current size of an open file. */
  size(fd: number): number;
  /** Names in a directory; throws ENOENT/ENOTDIR like node:fs. */
  readdir(dir: string): string[];
  /**
   * Creates one directory, like mkdir(2): true when this call created it,
   * false when it already is a directory. A missing parent is ENOENT and a
   * non-directory at `dir` is EEXIST; `createDirectories` makes a whole
   * path, syncing the parent of each level it creates.
   */
  mkdir(dir: string): boolean;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** fsync of a directory, so that entries created, renamed or removed in it are durable. */
  syncDir(dir: string): void;
  /** Kind of a path (symbolic links followed), or undefined when it does not exist. */
  stat(path: string): { isFile: boolean; isDirectory: boolean; size: number } | undefined;
  /**
   * The target of the symbolic link at `path`; undefined when `path` is not
   * a symbolic link or does not exist. Lets an error name a dangling link
   * instead of reporting ENOENT for a path that `stat` cannot follow.
   * Optional (an implementation without it gets the plain error), so that a
   * FileIO written before it existed still fits.
   */
  readlink?(path: string): string | undefined;
  /**
   * Takes an exclusive lock on an open file (opened for writing) without
   * waiting: true when taken, false when another open of the file holds it.
   * The kernel releases it when the descriptor is closed or its process dies.
   * Absent where no such lock is available (the writer lock then falls back,
   * see WriterLock).
   */
  lock?(fd: number): boolean;
  /** True when `path` names the file open as `fd` (same device and inode); false when it names another or nothing. */
  isSameFile?(fd: number, path: string): boolean;
}

export const nodeFileIO: FileIO = {
  open: (path, flags) => fs.openSync(path, flags),
  close: (fd) => fs.closeSync(fd),
  read: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  write: (fd, buf, offset, length, position) => fs.writeSync(fd, buf, offset, length, position),
  fsync: (fd) => fs.fdatasyncSync(fd),
  fsyncAsync: (fd) =>
    new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
  truncate: (fd, length) => fs.ftruncateSync(fd, length),
  size: (fd) => fs.fstatSync(fd).size,
  readdir: (dir) => fs.readdirSync(dir),
  // a plain mkdir, never `mkdirSync(dir, { recursive: true })`: on Node 20 that
  // retries forever when mkdir answers ENOENT although the parent exists, which
  // is what pseudo filesystems do (`/proc/x` spins at full CPU, never returns)
  mkdir: (dir) => {
    try {
      fs.mkdirSync(dir);
      return true;
    } catch (err) {
      if (hasErrno(err, 'EEXIST') && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return false;
      throw err;
    }
  },
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.unlinkSync(path),
  syncDir: (dir) => {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  stat: (path) => {
    const st = fs.statSync(path, { throwIfNoEntry: false });
    return st && { isFile: st.isFile(), isDirectory: st.isDirectory(), size: st.size };
  },
  readlink: (path) => {
    try {
      return fs.readlinkSync(path);
    } catch (err) {
      // EINVAL: not a link; ENOENT/ENOTDIR: nothing there
      if (hasErrno(err, 'EINVAL', 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
  },
  ...fileLock(),
};

/**
 * An open-file-description lock (Linux `F_OFD_SETLK`, `flock` on macOS,
 * `LockFileEx` on Windows) through fs-native-extensions, which ships prebuilt
 * binaries and runs no install script. Node has no such call of its own.
 * Loaded lazily and optionally: where the addon cannot load (a platform
 * without a prebuild), `lock` is absent.
 */
function fileLock(): Pick<FileIO, 'lock' | 'isSameFile'> {
  let tryLock: ((fd: number) => boolean) | undefined;
  try {
    tryLock = (createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number): boolean }).tryLock;
  } catch {
    return {};
  }
  return {
    lock: (fd) => {
      try {
        return tryLock(fd);
      } catch (err) {
        // Linux reports a conflicting lock as EAGAIN (the addon's false) or EACCES
        if (hasErrno(err, 'EACCES')) return false;
        throw err;
      }
    },
    isSameFile: (fd, path) => {
      const open = fs.fstatSync(fd, { bigint: true });
      const named = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
      return named !== undefined && named.ino === open.ino && named.dev === open.dev;
    },
  };
}

/** Reads exactly `length` bytes at `position` (fewer only at end of file). */
export function readFully(io: FileIO, fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = io.read(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buf[offset..offset+length)` at `position`, looping over short writes. */
export function writeFully(io: FileIO, fd: number, buf: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = io.write(fd, buf, offset + done, length - done, position + done);
    if (n <= 0) throw Object.assign(new Error(`short write: ${done} of ${length} bytes`), { code: 'EIO' });
    done += n;
  }
}
