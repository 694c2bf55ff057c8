const LF = 0x0a;
const CR = 0x0d;

/** What one chunk of input completed, and whether the line still open is already too long. */
export interface SplitLines {
  /** The lines this chunk ended, without their `\n` or `\r\n`; copies, so that a line does not keep its chunks alive. */
  lines: Buffer[];
  /**
   * Set when the line still open (no newline yet) is already longer than
   * the limit, whatever follows: the bytes of it seen so far. The caller
   * refuses it now rather than reading an endless line into memory.
   */
  openLineBytes?: number;
}

/**
 * Splits a byte stream into lines as `episteme-wal append` reads them: a line
 * ends at `\n`, and a `\r` right before that `\n` is part of the ending (CRLF
 * gives the records LF gives), also when a chunk ends between the two; any
 * other `\r` is data. A last line without a newline is a line, a trailing
 * `\r` of it data.
 *
 * Each chunk is scanned once, and the open line is kept as a list of the
 * chunks' tails, joined once when its newline comes: rescanning and copying
 * the whole open line at every chunk made a long line quadratic. The open
 * line is never held past `maxLineBytes` (+1 for a `\r` that may be the
 * start of a CRLF): it is reported as too long instead, so memory stays at
 * about the limit plus one chunk.
 */
export class LineSplitter {
  private open: Buffer[] = [];
  private openBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): SplitLines {
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(LF); nl !== -1; nl = chunk.indexOf(LF, start)) {
      const line = this.take(chunk.subarray(start, nl));
      lines.push(line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.open.push(chunk.subarray(start));
      this.openBytes += chunk.length - start;
    }
    // a last `\r` may still become part of a CRLF ending: it does not count yet
    const last = this.open.length > 0 ? this.open[this.open.length - 1]! : undefined;
    const counted = last !== undefined && last[last.length - 1] === CR ? this.openBytes - 1 : this.openBytes;
    return counted > this.maxLineBytes ? { lines, openLineBytes: this.openBytes } : { lines };
  }

  /** The last line, when the input did not end with a newline (its `\r`, if last, is data). */
  end(): Buffer[] {
    return this.openBytes > 0 ? [this.take(Buffer.alloc(0))] : [];
  }

  /** The open line with `tail` appended, as a copy of its own; the line is closed. */
  private take(tail: Buffer): Buffer {
    const line = this.open.length === 0 ? Buffer.from(tail) : Buffer.concat([...this.open, tail], this.openBytes + tail.length);
    this.open = [];
    this.openBytes = 0;
    return line;
  }
}
