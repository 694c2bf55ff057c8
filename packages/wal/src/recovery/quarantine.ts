import { join } from 'node:path';
import { ioError } from '../errors.js';
import { QUARANTINE_DIR } from '../format/constants.js';
import { quarantineName } from '../format/segmentName.js';
import { createDirectories } from '../io/directories.js';
import { unlinkQuietly } from '../io/closers.js';
import { readFully, writeFully, type FileIO } from '../io/fileIO.js';
import { hasErrno } from '../shared/errno.js';
import type { SegmentFile } from './segmentFiles.js';

const COPY_CHUNK = 1024 * 1024;

/**
 * Moves cut bytes out of the log without ever deleting them: each step is
 * made durable before the next one may remove anything from the log.
 */
export class Quarantine {
  private readonly qdir: string;

  constructor(private readonly io: FileIO, private readonly dir: string, private readonly now: () => number = Date.now) {
    this.qdir = join(dir, QUARANTINE_DIR);
  }

  /**
   * Copies `[from, to)` of an open segment into a new quarantine file, syncs
   * it and the quarantine directory. Returns the path relative to the journal.
   */
  copy(segment: SegmentFile, fd: number, from: number, to: number): string {
    this.ensureDir();
    const { name, qfd } = this.createFile(segment.base, from);
    const path = join(this.qdir, name);
    try {
      const buf = new Uint8Array(Math.min(COPY_CHUNK, Math.max(1, to - from)));
      for (let pos = from; pos < to; ) {
        const want = Math.min(buf.length, to - pos);
        const got = readFully(this.io, fd, buf, 0, want, pos);
        if (got !== want) throw new Error(`segment ended at ${pos + got} while copying up to ${to}`);
        writeFully(this.io, qfd, buf, 0, got, pos - from);
        pos += got;
      }
      this.io.fsync(qfd);
    } catch (err) {
      this.io.close(qfd);
      // a partial copy (a full disk) matches no cut: remove it, the segment is untouched;
      // when that fails it is left behind, and recovery was refused before cutting anything either way
      unlinkQuietly(this.io, path);
      throw ioError('writing quarantine copy', path, err);
    }
    this.io.close(qfd);
    this.syncDir(this.qdir);
    return `${QUARANTINE_DIR}/${name}`;
  }

  /** Moves a whole segment file into quarantine (a rename: atomic, no copy). */
  move(segment: SegmentFile): string {
    this.ensureDir();
    let name = quarantineName(segment.base, 0, this.now());
    while (this.io.stat(join(this.qdir, name))) name = bump(name);
    try {
      this.io.rename(segment.path, join(this.qdir, name));
    } catch (err) {
      throw ioError('moving into quarantine', segment.path, err);
    }
    this.syncDir(this.qdir);
    this.syncDir(this.dir);
    return `${QUARANTINE_DIR}/${name}`;
  }

  private ensureDir(): void {
    createDirectories(this.io, this.qdir);
  }

  private createFile(base: number, position: number): { name: string; qfd: number } {
    let name = quarantineName(base, position, this.now());
    for (;;) {
      try {
        return { name, qfd: this.io.open(join(this.qdir, name), 'wx') };
      } catch (err) {
        if (!hasErrno(err, 'EEXIST')) throw ioError('creating', join(this.qdir, name), err);
        name = bump(name);
      }
    }
  }

  private syncDir(dir: string): void {
    try {
      this.io.syncDir(dir);
    } catch (err) {
      throw ioError('syncing directory', dir, err);
    }
  }
}

/** Two cuts in the same millisecond: use the next millisecond in the name. */
function bump(name: string): string {
  const parts = name.split('.');
  parts[2] = String(Number(parts[2]) + 1);
  return parts.join('.');
}
