import { join } from 'node:path';
import { ioError } from '../errors.js';
import { HEADER_SIZE } from '../format/constants.js';
import { encodeSegmentHeader } from '../format/segmentHeader.js';
import { segmentName } from '../format/segmentName.js';
import { writeFully, type FileIO } from '../io/fileIO.js';

const ZEROS = new Uint8Array(256 * 1024);

/**
 * The segment the writer appends to. `writePos` is the file position of the
 * head; bytes after it are either absent or preallocated zeros, which FORMAT.md
 * defines as free space (recovery keeps it, readers stop there).
 */
export class ActiveSegment {
  private constructor(
    private readonly io: FileIO,
    readonly base: number,
    readonly path: string,
    private fd: number,
    public writePos: number,
    private allocatedEnd: number,
    private readonly preallocateBytes: number,
  ) {}

  /** Creates a new segment: header written and synced, then the directory synced. */
  static create(io: FileIO, dir: string, base: number, preallocateBytes: number): ActiveSegment {
    const path = join(dir, segmentName(base));
    let fd: number;
    try {
      fd = io.open(path, 'wx+');
    } catch (err) {
      throw ioError('creating segment', path, err);
    }
    try {
      writeFully(io, fd, encodeSegmentHeader(base), 0, HEADER_SIZE, 0);
      io.fsync(fd);
      io.syncDir(dir);
    } catch (err) {
      io.close(fd);
      try {
        // a segment without a durable header must not stay behind: the next
        // open would take it for a torn creation and quarantine it anyway
        io.unlink(path);
      } catch {
        // left for recovery, which moves a headerless last segment aside
      }
      throw ioError('creating segment', path, err);
    }
    return new ActiveSegment(io, base, path, fd, HEADER_SIZE, HEADER_SIZE, preallocateBytes);
  }

  /** Reopens the last segment after recovery; `writePos` is the recovered head's position. */
  static open(io: FileIO, dir: string, base: number, writePos: number, preallocateBytes: number): ActiveSegment {
    const path = join(dir, segmentName(base));
    try {
      const fd = io.open(path, 'r+');
      return new ActiveSegment(io, base, path, fd, writePos, Math.max(writePos, io.size(fd)), preallocateBytes);
    } catch (err) {
      throw ioError('opening segment', path, err);
    }
  }

  /** Bytes the segment file will hold once `extra` more record bytes are written. */
  sizeWith(extra: number): number {
    return this.writePos + extra;
  }

  get isEmpty(): boolean {
    return this.writePos === HEADER_SIZE;
  }

  /**
   * Writes record bytes at the head. On any failure (ENOSPC, EIO, short
   * write) the file is cut back to the head, so the log still ends on a
   * record boundary, and the error is rethrown. If even that fails, the
   * error carries `rollbackFailed` and the journal must stop writing.
   */
  write(buf: Uint8Array, length: number): void {
    try {
      this.preallocate(this.writePos + length);
      writeFully(this.io, this.fd, buf, 0, length, this.writePos);
    } catch (err) {
      try {
        this.io.truncate(this.fd, this.writePos);
        this.allocatedEnd = this.writePos;
      } catch (rollbackErr) {
        throw Object.assign(new Error(`rollback after a failed write failed: ${String(rollbackErr)}`), {
          cause: err,
          rollbackFailed: true,
        });
      }
      throw err;
    }
    this.writePos += length;
  }

  syncAsync(): Promise<void> {
    return this.io.fsyncAsync(this.fd);
  }

  sync(): void {
    this.io.fsync(this.fd);
  }

  /**
   * Seals the segment before the next one is created: free space trimmed (a
   * sealed segment ends at its last record, so bases stay contiguous), synced,
   * closed.
   */
  seal(): void {
    if (this.allocatedEnd > this.writePos) {
      this.io.truncate(this.fd, this.writePos);
      this.allocatedEnd = this.writePos;
    }
    this.io.fsync(this.fd);
    this.close();
  }

  close(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      this.io.close(fd);
    }
  }

  private preallocate(upTo: number): void {
    if (this.preallocateBytes === 0 || upTo <= this.allocatedEnd) return;
    const target = Math.max(upTo, this.allocatedEnd + this.preallocateBytes);
    // Zero-fill only past the bytes about to be written: the records cover
    // the rest, and what lies between the head and the allocated end is zero.
    let pos = Math.max(this.allocatedEnd, upTo);
    while (pos < target) {
      const n = Math.min(ZEROS.length, target - pos);
      writeFully(this.io, this.fd, ZEROS, 0, n, pos);
      pos += n;
    }
    this.allocatedEnd = target;
  }
}
