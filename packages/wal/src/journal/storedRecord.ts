import { inspect } from 'node:util';
import { RECORD_OVERHEAD } from '../format/constants.js';

/**
 * A record as read back: its offset, its payload, and the offset of the next
 * record. `payload` and `blake3` are views into buffers shared by the records
 * of one read batch (up to 256 KiB): keeping one small record for a long
 * time keeps its chunk alive, so `slice()` what you store.
 */
export interface JournalRecord {
  readonly offset: number;
  readonly payload: Uint8Array;
  /** The stored BLAKE3 of the payload (verified on read): the record's content address. */
  readonly blake3: Uint8Array;
  readonly next: number;
  /**
   * The payload decoded as UTF-8, exactly as `new TextDecoder().decode(payload)`
   * gives it (a leading byte order mark dropped, invalid sequences replaced by
   * U+FFFD), but straight from the read buffer: no view, no copy.
   */
  text(): string;
}

/**
 * UTF-8 of a Buffer's range. Buffer#utf8Slice (what toString('utf8') calls
 * after its argument checks) took 82 ns per 200 B payload here against 104 ns
 * for toString and 125 ns for a view plus TextDecoder; it is not in Node's
 * typings, so toString stands in should a Node version lack it.
 */
const utf8Of: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (buf, start, end) => (buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

/**
 * A buffer that read batches copy records into. A Buffer, so that text() can
 * decode from it directly; zero-filled, so that `payload.buffer` never shows
 * bytes of some earlier allocation of the process.
 */
export function recordChunk(bytes: number): Buffer {
  return Buffer.alloc(bytes);
}

/**
 * The record whose bytes (header, digest, payload) start at `at` in `chunk`.
 * Its `payload` and `blake3` views are made on first use and kept: a typed
 * array view costs more than copying a small record's bytes, and a reader
 * that decodes `text()` or looks only at offsets needs neither (projection
 * rebuilds: measured in bench/suites/rebuild.ts).
 */
export class StoredRecord implements JournalRecord {
  readonly offset: number;
  readonly next: number;
  readonly #chunk: Buffer;
  readonly #at: number;
  readonly #length: number;
  #payload: Uint8Array | undefined;
  #blake3: Uint8Array | undefined;

  constructor(offset: number, chunk: Buffer, at: number, length: number) {
    this.offset = offset;
    this.next = offset + RECORD_OVERHEAD + length;
    this.#chunk = chunk;
    this.#at = at;
    this.#length = length;
  }

  get payload(): Uint8Array {
    return (this.#payload ??= new Uint8Array(this.#chunk.buffer, this.#chunk.byteOffset + this.#at + RECORD_OVERHEAD, this.#length));
  }

  get blake3(): Uint8Array {
    return (this.#blake3 ??= new Uint8Array(this.#chunk.buffer, this.#chunk.byteOffset + this.#at + 8, 32));
  }

  text(): string {
    const chunk = this.#chunk;
    let start = this.#at + RECORD_OVERHEAD;
    const end = start + this.#length;
    // TextDecoder (ignoreBOM false) drops a leading BOM; Buffer#toString keeps it
    if (end - start >= 3 && chunk[start] === 0xef && chunk[start + 1] === 0xbb && chunk[start + 2] === 0xbf) start += 3;
    return utf8Of(chunk, start, end);
  }

  /** What console.log and util.inspect show: the fields, not the private chunk. */
  [inspect.custom](depth: number, options: object): string {
    const shown = { offset: this.offset, payload: this.payload, blake3: this.blake3, next: this.next };
    return `JournalRecord ${inspect(shown, { ...options, depth: depth < 0 ? null : depth })}`;
  }
}
