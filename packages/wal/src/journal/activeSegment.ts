import { join } from 'node:path';
import { ioError } from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { crc32cOfRecords, readU32 } from '../format/record.js';
import { encodeSegmentHeader } from '../format/segmentHeader.js';
import { segmentName } from '../format/segmentName.js';
import { closeQuietly } from '../io/closers.js';
import { readFully, writeFully, type FileIO } from '../io/fileIO.js';
import { codeOf } from '../shared/errno.js';
import { checksums } from '../checksum/index.js';
import { fileCrc32c, fileCrc32cOfRange, type LastRecord } from '../recovery/recoveryPoint.js';
import { SyncFailedError } from './syncFailedError.js';

const ZEROS = new Uint8Array(256 * 1024);

/** Zero bytes written ahead of the records (`bytes`, 0: none), never past the segment limit. */
export interface Preallocation {
  bytes: number;
  /** maxSegmentBytes: space past it would only be trimmed again when the segment is sealed. */
  limit: number;
}

export function preallocationOf(options: { preallocateBytes: number; maxSegmentBytes: number }): Preallocation {
  return { bytes: options.preallocateBytes, limit: options.maxSegmentBytes };
}

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
    private readonly prealloc: Preallocation,
    /** CRC32C of the file's bytes up to `writePos`, carried on as records are written. */
    private crc: number,
    /** The record that ends at `writePos` (undefined: none, or not known), for the marks readers check. */
    private last: LastRecord | undefined,
  ) {}

  /**
   * Creates a new segment: header written and synced, then the directory
   * synced. A failed header write is undone (unlink, then a directory sync)
   * and thrown as a plain IoError: the directory is as before, and the caller
   * may keep appending to the previous segment. A failed fsync or directory
   * sync, or an undo that did not complete, throws SyncFailedError: whether
   * the new file survives a power loss is then unknown, and a journal that
   * went on writing to the previous segment could reopen to a new segment
   * whose base no longer matches (a gap), so the writer must stop.
   */
  static create(io: FileIO, dir: string, base: number, prealloc: Preallocation): ActiveSegment {
    const path = join(dir, segmentName(base));
    let fd: number;
    try {
      fd = io.open(path, 'wx+');
    } catch (err) {
      throw ioError('creating segment', path, err);
    }
    const header = encodeSegmentHeader(base);
    try {
      writeFully(io, fd, header, 0, HEADER_SIZE, 0);
    } catch (err) {
      undoCreate(io, dir, path, fd, err);
      throw ioError('creating segment', path, err);
    }
    try {
      io.fsync(fd);
      io.syncDir(dir);
    } catch (err) {
      try {
        undoCreate(io, dir, path, fd, err);
      } catch {
        // already fatal; recovery moves a headerless last segment aside
      }
      throw new SyncFailedError('creating segment', path, err);
    }
    return new ActiveSegment(io, base, path, fd, HEADER_SIZE, HEADER_SIZE, prealloc, checksums().crc32c(header, 0, HEADER_SIZE, 0), undefined);
  }

  /**
   * Reopens the last segment after recovery; `writePos` is the recovered
   * head's position. `known` is a CRC32C of the file's first bytes that
   * recovery already had (normally up to the head: see
   * RecoveryReport.lastSegmentCrc32c): only the bytes after it are read to
   * carry the CRC on to the head. `lastRecord` is the file position of the
   * record that ends at `writePos`, as recovery found it: its CRC field is
   * read back (8 bytes), and it is dropped when it does not end there.
   */
  static open(
    io: FileIO,
    dir: string,
    base: number,
    writePos: number,
    prealloc: Preallocation,
    known?: { size: number; crc: number },
    lastRecord?: number,
  ): ActiveSegment {
    const path = join(dir, segmentName(base));
    let fd: number | undefined;
    try {
      fd = io.open(path, 'r+');
      const crc = known && known.size <= writePos ? fileCrc32cOfRange(io, fd, known.size, writePos, known.crc) : fileCrc32c(io, fd, writePos);
      const last = lastRecord === undefined ? undefined : recordEndingAt(io, fd, lastRecord, writePos);
      return new ActiveSegment(io, base, path, fd, writePos, Math.max(writePos, io.size(fd)), prealloc, crc, last);
    } catch (err) {
      if (fd !== undefined) io.close(fd);
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
   * write) the file is cut back to the head and the cut is synced, so the
   * log ends on a record boundary even after a power loss: without that sync
   * a rejected append could reappear on reopen. The write error is rethrown;
   * if the cut or its sync fails, a SyncFailedError is thrown instead and
   * the journal must stop writing.
   */
  write(buf: Uint8Array, length: number): void {
    try {
      this.preallocate(this.writePos + length);
      writeFully(this.io, this.fd, buf, 0, length, this.writePos);
    } catch (err) {
      try {
        this.io.truncate(this.fd, this.writePos);
        this.allocatedEnd = this.writePos;
        this.io.fsync(this.fd);
      } catch (rollbackErr) {
        throw new SyncFailedError(`rolling back a failed write (${describeCause(err)}) in`, this.path, rollbackErr);
      }
      throw err;
    }
    const at = lastRecordIn(buf, length);
    if (at >= 0) this.last = { position: this.writePos + at, crc: readU32(buf, at + 4) };
    this.writePos += length;
    this.crc = crc32cOfRecords(buf, length, this.crc);
  }

  /** The record that ends at the head, when known: what a mark names for readers to check. */
  lastRecord(): LastRecord | undefined {
    return this.last;
  }

  /**
   * CRC32C of the file up to the head (the clean-close mark, a synced
   * prefix), carried on from each write: nothing is read back. Should it ever
   * differ from the file, the next open only loses its shortcut (the CRC
   * does not match, the segment is scanned).
   */
  contentCrc(): number {
    return this.crc;
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
    if (this.prealloc.bytes === 0 || upTo <= this.allocatedEnd) return;
    // never past the segment limit (a record larger than the limit gets exactly its own size)
    const target = Math.max(upTo, Math.min(this.allocatedEnd + this.prealloc.bytes, this.prealloc.limit));
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

/** Where the last whole record of `buf[0..length)` (encoded records) starts; -1 when none. */
function lastRecordIn(buf: Uint8Array, length: number): number {
  let last = -1;
  for (let pos = 0; pos + RECORD_OVERHEAD <= length; ) {
    const end = pos + RECORD_OVERHEAD + readU32(buf, pos);
    if (end > length) break;
    last = pos;
    pos = end;
  }
  return last;
}

/** The record at `position` when it ends exactly at `end` (its CRC field read back), else undefined. */
function recordEndingAt(io: FileIO, fd: number, position: number, end: number): LastRecord | undefined {
  if (position < HEADER_SIZE || position + RECORD_OVERHEAD > end) return undefined;
  const head = new Uint8Array(8);
  if (readFully(io, fd, head, 0, 8, position) < 8) return undefined;
  return position + RECORD_OVERHEAD + readU32(head, 0) === end ? { position, crc: readU32(head, 4) } : undefined;
}

/**
 * Removes a segment whose creation failed, durably: a file left behind (or
 * an unlink that a power loss takes back) would be taken for the last
 * segment on reopen, while the writer went on appending to the previous one.
 */
function undoCreate(io: FileIO, dir: string, path: string, fd: number, cause: unknown): void {
  closeQuietly(io, fd);
  try {
    io.unlink(path);
    io.syncDir(dir);
  } catch (err) {
    throw new SyncFailedError(`undoing the creation (after ${describeCause(cause)}) of`, path, err);
  }
}

function describeCause(err: unknown): string {
  return codeOf(err) ?? (err instanceof Error ? err.message : String(err));
}
