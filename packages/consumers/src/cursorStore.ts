import { join } from 'node:path';
import { nodeFileIO, readFully, writeFully, type FileIO } from '@episteme/wal';
import { decodeCursorFile, encodeCursorFile, type CursorState } from './cursorFile.js';
import { validateConsumerName } from './consumerName.js';

export const CONSUMERS_DIR = 'consumers';
const SUFFIX = '.cursor';
const TMP_SUFFIX = '.cursor.tmp';

/**
 * One durable cursor file per consumer in `<journal>/consumers/`. A commit
 * writes a new file, syncs it, renames it over the old one and syncs the
 * directory: after a crash at any moment the file holds the old or the new
 * cursor, never a torn or empty one.
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
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const size = this.io.size(fd);
      const buf = new Uint8Array(Math.min(size, 64 * 1024));
      const n = readFully(this.io, fd, buf, 0, buf.length, 0);
      return decodeCursorFile(buf.subarray(0, n), path);
    } finally {
      this.io.close(fd);
    }
  }

  write(state: CursorState): void {
    const name = validateConsumerName(state.name);
    if (this.io.mkdir(this.dir)) this.io.syncDir(join(this.dir, '..'));
    const tmp = join(this.dir, name + TMP_SUFFIX);
    const bytes = encodeCursorFile(state);
    const fd = this.io.open(tmp, 'w');
    try {
      writeFully(this.io, fd, bytes, 0, bytes.length, 0);
      this.io.fsync(fd);
    } finally {
      this.io.close(fd);
    }
    this.io.rename(tmp, this.pathOf(name));
    this.io.syncDir(this.dir);
  }

  remove(name: string): boolean {
    try {
      this.io.unlink(this.pathOf(name));
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return false;
      throw err;
    }
    this.io.syncDir(this.dir);
    return true;
  }

  /** Names of the stored cursors, sorted. Leftover temp files of a crashed commit are ignored. */
  names(): string[] {
    let files: string[];
    try {
      files = this.io.readdir(this.dir);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return [];
      throw err;
    }
    return files
      .filter((f) => f.endsWith(SUFFIX) && !f.endsWith(TMP_SUFFIX))
      .map((f) => f.slice(0, -SUFFIX.length))
      .sort();
  }

  private pathOf(name: string): string {
    return join(this.dir, validateConsumerName(name) + SUFFIX);
  }
}
