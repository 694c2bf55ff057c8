/**
 * The lines of an input stream, each decoded as strict UTF-8. readline
 * decodes leniently: a byte that is not UTF-8 (a Latin-1 "é" in an export)
 * becomes U+FFFD, and the changed text would be appended as if valid. Here
 * such a line comes out as `{ notUtf8: true }`, for the caller to report.
 *
 * Line ends are those of readline with crlfDelay Infinity: `\n`, `\r\n` and
 * a lone `\r`; a last line without an end counts when it is not empty.
 */
import { isAscii, isUtf8 } from 'node:buffer';

export type InputLine = { text: string; bytes: number } | { notUtf8: true; bytes: number } | { tooLong: true; bytes: number };

const LF = 0x0a;
const CR = 0x0d;

/**
 * The lines of each chunk together: one `yield` per line cost 3-4x the time of readline (measured in review).
 * A line longer than `maxLineBytes` (ending excluded) is not kept: its bytes are dropped as they come
 * (memory stays bounded by the limit, not by the line) and it comes out as `{ tooLong: true }`.
 */
export async function* inputLineBatches(input: AsyncIterable<Uint8Array | string>, maxLineBytes = Number.POSITIVE_INFINITY): AsyncGenerator<InputLine[]> {
  // fatal: refuse bytes that are not UTF-8; ignoreBOM: keep a BOM for the caller (line 1 only may drop it)
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const encoder = new TextEncoder();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  /**
   * The previous chunk ended with `\r`: the line in `pending` has ended, but
   * whether with `\r\n` (2 bytes) is up to the next chunk's first byte.
   */
  let endsWithCr = false;
  /** The line in progress passed maxLineBytes: its bytes are counted in pendingBytes, not kept in `pending`. */
  let dropping = false;
  /** Keeps the start of a line that has no end yet, or drops it once the line is too long. */
  const hold = (part: Uint8Array): void => {
    pendingBytes += part.length;
    if (!dropping && pendingBytes > maxLineBytes) {
      dropping = true;
      pending = [];
    }
    if (!dropping) pending.push(part.slice()); // a copy: the stream may reuse its chunk
  };

  const line = (last: Uint8Array, ending: number): InputLine => {
    const bytes = pendingBytes + last.length;
    if (dropping || bytes > maxLineBytes) {
      dropping = false;
      pending = [];
      pendingBytes = 0;
      return { tooLong: true, bytes: bytes + ending };
    }
    const whole = pending.length === 0 ? last : concat([...pending, last], bytes);
    pending = [];
    pendingBytes = 0;
    try {
      return { text: decoder.decode(whole), bytes: bytes + ending };
    } catch {
      return { notUtf8: true, bytes: bytes + ending };
    }
  };

  /**
   * The lines of `buf` from `start` (where no line is pending) to its last
   * `\n`, decoded at once when those bytes are UTF-8 (one decode, and no
   * search of the bytes, per chunk, not per line): pushed to `out`; returns
   * where the line-by-line way goes on (`start` itself when they are not
   * UTF-8: each line is then decoded alone, and only a bad one flagged).
   */
  const wholeLines = (buf: Uint8Array, start: number, out: InputLine[]): number => {
    const lastLf = buf.lastIndexOf(LF);
    if (lastLf < start) return start;
    const whole = Buffer.from(buf.buffer, buf.byteOffset + start, lastLf + 1 - start);
    if (!isUtf8(whole)) return start;
    // not the TextDecoder: its UTF-16 output made every line a two-byte string, which made
    // each line's JSON.parse and all after it slower
    const text = whole.toString(isAscii(whole) ? 'latin1' : 'utf8');
    // as many characters as bytes: all ASCII, a line's size is its length
    const ascii = text.length === lastLf + 1 - start;
    // the bytes are searched (memchr), not the text: the optimised code's String indexOf scanned a
    // chunk with no \r at about 3.6 ns a character (0.4 µs a line, in an import's profile)
    let nextCr = whole.indexOf(CR) < 0 ? -1 : text.indexOf('\r');
    for (let a = 0; a < text.length; ) {
      const lf = text.indexOf('\n', a);
      if (nextCr !== -1 && nextCr < a) nextCr = text.indexOf('\r', a);
      // the text ends with \n, so a \r before it is followed by something: \r\n or a lone \r
      const atCr = nextCr !== -1 && nextCr < lf;
      const end = atCr ? nextCr : lf;
      const ending = atCr && text.charCodeAt(end + 1) === LF ? 2 : 1;
      const lineText = text.slice(a, end);
      const bytes = ascii ? end - a : Buffer.byteLength(lineText);
      out.push(bytes > maxLineBytes ? { tooLong: true, bytes: bytes + ending } : { text: lineText, bytes: bytes + ending });
      a = end + ending;
    }
    return lastLf + 1;
  };

  for await (const chunk of input) {
    // a string chunk was decoded already (a test, or a stream with an encoding set): nothing left to check
    const buf = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    if (buf.length === 0) continue;
    const out: InputLine[] = [];
    let start = 0;
    if (endsWithCr) {
      endsWithCr = false;
      start = buf[0] === LF ? 1 : 0;
      out.push(line(buf.subarray(0, 0), 1 + start));
    }
    let wholeTried = false;
    while (start < buf.length) {
      if (!wholeTried && pendingBytes === 0 && !dropping) {
        wholeTried = true;
        start = wholeLines(buf, start, out);
        continue;
      }
      const end = nextLineEnd(buf, start);
      if (end < 0) break;
      if (buf[end] === CR) {
        if (end + 1 === buf.length) {
          hold(buf.subarray(start, end));
          endsWithCr = true;
          start = buf.length;
          break;
        }
        const crlf = buf[end + 1] === LF ? 2 : 1;
        out.push(line(buf.subarray(start, end), crlf));
        start = end + crlf;
      } else {
        out.push(line(buf.subarray(start, end), 1));
        start = end + 1;
      }
    }
    if (start < buf.length) hold(buf.subarray(start));
    if (out.length > 0) yield out;
  }
  if (endsWithCr) yield [line(new Uint8Array(0), 1)];
  else if (pendingBytes > 0) yield [line(new Uint8Array(0), 0)];
}

/** The lines one by one (tests; the import takes them by chunk). */
export async function* inputLines(input: AsyncIterable<Uint8Array | string>, maxLineBytes?: number): AsyncGenerator<InputLine> {
  for await (const batch of inputLineBatches(input, maxLineBytes)) yield* batch;
}

/** Position of the next `\n` or `\r` at or after `from`, or -1. */
function nextLineEnd(buf: Uint8Array, from: number): number {
  const lf = buf.indexOf(LF, from);
  const cr = buf.indexOf(CR, from);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return Math.min(lf, cr);
}

function concat(parts: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
