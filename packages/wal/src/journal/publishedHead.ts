import { join } from 'node:path';
import { crc32cJs } from '../checksum/crc32cTable.js';
import { readU32 } from '../format/record.js';
import { ioError } from '../errors.js';
import { closeQuietly } from '../io/closers.js';
import { readFully, writeFully, type FileIO } from '../io/fileIO.js';
import { hasErrno } from '../shared/errno.js';

/**
 * The head as the writer published it: the end of the records whose append
 * resolved. Readers in other processes read the segments directly, so they
 * could otherwise see bytes the writer has written but not acknowledged: a
 * batch still waiting for its sync, or a failed write that is then rolled
 * back and overwritten by other records. With this file they stop at the
 * same head as a reader in the writer's process (docs/readers.md: a record is
 * visible once its append has resolved).
 *
 * 16 bytes: head as u64 LE, CRC32C of those 8 bytes, magic "EPHD". It is
 * overwritten in place and never synced: it serves live readers on this
 * host, whose view of the page cache is the writer's. A writer rewrites it
 * at open, after recovery. A torn or damaged file is ignored by readers:
 * they keep the last valid value they read, or hold back when they never
 * read one. Without the file (a journal last opened by a writer from before
 * it existed), readers stop at the last complete record, as before.
 */
export const PUBLISHED_HEAD_FILE = 'PUBLISHED_HEAD';

const SIZE = 16;
const MAGIC = 0x44485045; // "EPHD" little-endian

function encode(head: number, out: Uint8Array): void {
  const v = new DataView(out.buffer, out.byteOffset, SIZE);
  v.setUint32(0, head % 0x1_0000_0000, true);
  v.setUint32(4, Math.floor(head / 0x1_0000_0000), true);
  v.setUint32(8, crc32cJs(out, 0, 8, 0), true);
  v.setUint32(12, MAGIC, true);
}

/**
 * The published head, `undefined` when the file does not exist, `'damaged'`
 * when it is torn (a read that raced the writer's overwrite) or not ours.
 */
export function readPublishedHead(io: FileIO, dir: string): number | undefined | 'damaged' {
  let fd: number;
  try {
    fd = io.open(join(dir, PUBLISHED_HEAD_FILE), 'r');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    return 'damaged';
  }
  try {
    const buf = new Uint8Array(SIZE);
    if (readFully(io, fd, buf, 0, SIZE, 0) < SIZE) return 'damaged';
    if (readU32(buf, 12) !== MAGIC || readU32(buf, 8) !== crc32cJs(buf, 0, 8, 0)) return 'damaged';
    return readU32(buf, 0) + readU32(buf, 4) * 0x1_0000_0000;
  } catch {
    return 'damaged';
  } finally {
    io.close(fd);
  }
}

/**
 * The writer's side. Heads of synced batches are written at once (a 16-byte
 * write, a few µs beside a sync of 100 µs or more); heads of unsynced batches (durability
 * `none`) at most once per event-loop turn, so that a caller appending in a
 * tight loop does not pay a write per append. Writing it is best effort: a
 * failed write (disk full) leaves readers behind, never ahead, and is retried
 * at the next publish.
 */
export class PublishedHead {
  private readonly buf = new Uint8Array(SIZE);
  /** Whether `latest` still has to reach the file (an unsynced head waiting for its turn, or a failed write). */
  private dirty = false;
  private scheduled = false;
  private closed = false;

  private constructor(
    private readonly io: FileIO,
    private readonly fd: number,
    /** The newest head handed to open or publish. */
    private latest: number,
  ) {}

  /**
   * Opens the file and writes `head` (the recovered head). When absent, it is
   * created whole (written under a temporary name, then renamed), so that no
   * reader ever finds it empty: a reader that never read a valid value holds
   * back instead of reading unpublished records.
   */
  static open(io: FileIO, dir: string, head: number): PublishedHead {
    const path = join(dir, PUBLISHED_HEAD_FILE);
    let fd: number;
    try {
      fd = io.open(path, 'r+');
    } catch (err) {
      if (!hasErrno(err, 'ENOENT')) throw ioError('opening', path, err);
      fd = create(io, path, head);
    }
    const published = new PublishedHead(io, fd, head);
    published.write();
    return published;
  }

  publish(head: number, synced: boolean): void {
    if (this.closed) return;
    this.latest = head;
    if (synced) {
      this.write();
      return;
    }
    this.dirty = true;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.dirty && !this.closed) this.write();
    });
  }

  /** Writes the newest head once more (it also repairs a file damaged meanwhile) and closes. */
  close(): void {
    if (this.closed) return;
    this.write();
    this.closed = true;
    closeQuietly(this.io, this.fd); // nothing to lose: the file is advisory
  }

  private write(): void {
    this.dirty = false;
    encode(this.latest, this.buf);
    try {
      writeFully(this.io, this.fd, this.buf, 0, SIZE, 0);
    } catch {
      this.dirty = true; // written again at the next publish
    }
  }
}

/** A new file holding `head`, renamed into place; returns it open for overwriting. */
function create(io: FileIO, path: string, head: number): number {
  const tmp = `${path}.new`;
  const bytes = new Uint8Array(SIZE);
  encode(head, bytes);
  try {
    const fd = io.open(tmp, 'w+'); // a leftover from a crash is overwritten
    try {
      writeFully(io, fd, bytes, 0, SIZE, 0);
      io.rename(tmp, path);
    } catch (err) {
      io.close(fd);
      throw err;
    }
    return fd;
  } catch (err) {
    throw ioError('creating', path, err);
  }
}
