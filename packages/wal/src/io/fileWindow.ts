import { readFully, type FileIO } from './fileIO.js';

/**
 * A forward-moving window over one open file: `ensure(pos, len)` makes
 * `buf[pos - start .. pos - start + len)` hold the file's bytes, reading in
 * large chunks so that a scan costs one read call per chunk, not per record.
 * The buffer only grows to fit one record, and callers bound `len` by the
 * file size first, so a garbage length field cannot make it allocate more
 * than the file holds.
 */
export class FileWindow {
  buf: Uint8Array;
  /** File position of buf[0]. */
  start = 0;
  /** Valid bytes in buf. */
  length = 0;
  /** Bumped whenever `buf`'s bytes move or are read again: what was checked in them holds while it stays the same. */
  generation = 0;

  constructor(
    private readonly io: FileIO,
    private readonly fd: number,
    /** Bytes of the file this window may read; readers raise it as the file grows. */
    public limit: number,
    private readonly chunkBytes = 4 * 1024 * 1024,
  ) {
    this.buf = new Uint8Array(Math.max(1, Math.min(chunkBytes, limit)));
  }

  /**
   * Returns false when the file ended before `pos + len` (it shrank while we
   * read it, which only a concurrent writer's recovery can do).
   */
  ensure(pos: number, len: number): boolean {
    const end = pos + len;
    if (pos >= this.start && end <= this.start + this.length) return true;
    if (end > this.limit) return false;
    this.generation++;
    if (pos < this.start || pos > this.start + this.length) {
      this.start = pos;
      this.length = 0;
    } else if (pos > this.start) {
      // keep the bytes already read from pos on, move them to the front
      this.buf.copyWithin(0, pos - this.start, this.length);
      this.length -= pos - this.start;
      this.start = pos;
    }
    // Grow to fit the record, or up to a full chunk once the limit allows it
    // (a reader's window starts small on a new segment and the file grows).
    const desired = Math.min(Math.max(len, this.chunkBytes), this.limit - pos);
    if (len > this.buf.length || (this.buf.length < this.chunkBytes && desired > this.buf.length)) {
      const bigger = new Uint8Array(desired);
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    const want = Math.min(this.buf.length, this.limit - this.start) - this.length;
    if (want > 0) {
      this.length += readFully(this.io, this.fd, this.buf, this.length, want, this.start + this.length);
    }
    return end <= this.start + this.length;
  }
}
