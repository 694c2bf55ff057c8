import { join } from 'node:path';
import { isWalError, nodeFileIO, readFully, replaceFileAtomically, replaceFileAtomicallyAsync, WalErrorCodes, type FileIO } from '@episteme/wal';
import { decodeCursorFile, encodeCursorFile, type CursorState } from './cursorFile.js';
import { validateConsumerName } from './consumerName.js';
import { ConsumerIoError, errnoOf, isConsumerError } from './errors.js';
import { isProcessAlive } from './liveness.js';

export const CONSUMERS_DIR = 'consumers';
const SUFFIX = '.cursor';
/** `<name>.cursor.<pid>.<random>.tmp`: a commit's temp file (replaceFileAtomically), unique per commit. */
const TEMP_FILE = /^(.+)\.(\d+)\.([0-9a-f]+)\.tmp$/;

/**
 * One durable cursor file per consumer in `<journal>/consumers/`. A commit
 * writes a new file, syncs it, renames it over the old one and syncs the
 * directory: after a crash at any moment the file holds the old or the new
 * cursor, never a torn or empty one. Every file-system failure surfaces as a
 * ConsumerIoError (code CONSUMER_IO) with the errno error as its cause.
 */
export class CursorStore {
  readonly dir: string;

  constructor(journalDir: string, private readonly io: FileIO = nodeFileIO) {
    this.dir = join(journalDir, CONSUMERS_DIR);
  }

  read(name: string): CursorState | undefined {
    const path = this.pathOf(name);
    let fd: number;
    try {
      fd = this.io.open(path, 'r');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw wrap('open', path, err);
    }
    let bytes: Uint8Array;
    try {
      const size = this.io.size(fd);
      const buf = new Uint8Array(Math.min(size, 64 * 1024));
      const n = readFully(this.io, fd, buf, 0, buf.length, 0);
      bytes = buf.subarray(0, n);
    } catch (err) {
      closeQuietly(this.io, fd);
      throw wrap('read', path, err);
    }
    closeQuietly(this.io, fd); // what was read is complete
    return decodeCursorFile(bytes, path);
  }

  write(state: CursorState): void {
    const path = this.prepareWrite(state);
    attempt('commit', path, () => replaceFileAtomically(this.io, path, encodeCursorFile(state)));
  }

  /**
   * `write` with the syncs off the event loop. The same guarantees once it
   * resolves; at most one in flight per consumer (renames could reorder).
   */
  async writeAsync(state: CursorState): Promise<void> {
    const path = this.prepareWrite(state);
    try {
      await replaceFileAtomicallyAsync(this.io, path, encodeCursorFile(state));
    } catch (err) {
      throw wrap('commit', path, err);
    }
  }

  /** Validates the name and creates the directory (durably) on first use; returns the cursor file's path. */
  private prepareWrite(state: CursorState): string {
    const name = validateConsumerName(state.name);
    attempt('create directory', this.dir, () => {
      if (this.io.mkdir(this.dir)) this.io.syncDir(join(this.dir, '..'));
    });
    return this.pathOf(name);
  }

  remove(name: string): boolean {
    const path = this.pathOf(name);
    try {
      this.io.unlink(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw wrap('unlink', path, err);
    }
    attempt('fsync directory', this.dir, () => this.io.syncDir(this.dir));
    return true;
  }

  /** Names of the stored cursors, sorted. Temp files (of a commit in flight or of a crashed one) are ignored. */
  names(): string[] {
    return this.files()
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => f.slice(0, -SUFFIX.length))
      .sort();
  }

  /**
   * Deletes the temp files that commits of dead processes left behind (a
   * crash between create and rename); those of live processes may be commits
   * in flight and are kept. Returns the names removed.
   */
  removeStaleTempFiles(isAlive: (pid: number) => boolean = isProcessAlive): string[] {
    const removed: string[] = [];
    for (const f of this.files()) {
      const m = TEMP_FILE.exec(f);
      if (!m || isAlive(Number(m[2]))) continue;
      if (unlinkQuietly(this.io, join(this.dir, f))) removed.push(f);
    }
    if (removed.length > 0) attempt('fsync directory', this.dir, () => this.io.syncDir(this.dir));
    return removed;
  }

  private files(): string[] {
    try {
      return this.io.readdir(this.dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw wrap('list', this.dir, err);
    }
  }

  private pathOf(name: string): string {
    return join(this.dir, validateConsumerName(name) + SUFFIX);
  }
}

function wrap(operation: string, path: string, err: unknown): Error {
  if (isConsumerError(err)) return err;
  // a WAL_IO error from the shared file helpers: keep the errno error as the cause
  const cause = isWalError(err, WalErrorCodes.Io) && err.cause !== undefined ? err.cause : err;
  return new ConsumerIoError(operation, path, cause);
}

function attempt<T>(operation: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw wrap(operation, path, err);
  }
}

function closeQuietly(io: FileIO, fd: number): void {
  try {
    io.close(fd);
  } catch {
    // the error that matters is the one being thrown
  }
}

function unlinkQuietly(io: FileIO, path: string): boolean {
  try {
    io.unlink(path);
    return true;
  } catch {
    return false;
  }
}
