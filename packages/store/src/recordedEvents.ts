import { CorruptCommitError } from './errors.js';
import { bufferOf, decodeHeaderAt, sameBytes, type CommitHeader } from './commit/decodeCommit.js';
import { EVENT_DATA_BYTES, EVENT_FLAGS_KNOWN, KIND_TOMBSTONE } from './commit/layout.js';
import type { RecordedEvent } from './types.js';
import { upcast, type Upcasters } from './upcasting.js';

/**
 * The events of one commit record as the app reads them, positions
 * `from..to` of the stream (inclusive), upcast. A commit's global
 * positions are its log position plus each event's index in the commit
 * (docs/streams.md, "Global positions").
 */
export function recordedEventsOf(
  payload: Uint8Array,
  header: CommitHeader,
  logPosition: number,
  upcasters: Upcasters,
  from = header.firstPosition,
  to = header.firstPosition + header.count - 1,
): RecordedEvent[] {
  const out: RecordedEvent[] = [];
  eventsInto(bufferOf(payload), header.eventsAt, payload.length, logPosition, header, upcasters, from, to, out);
  return out;
}

/** A stream name the caller expects, with its UTF-8 bytes (decodeHeaderAt's `stream`). */
export interface KnownStream {
  name: string;
  bytes: Uint8Array;
}

export function knownStream(name: string): KnownStream {
  return { name, bytes: Buffer.from(name, 'utf8') };
}

/**
 * Appends to `out` the events (positions `from..to`) of the store record
 * whose payload is `bytes[at, at + len)`, at log position `offset`: the
 * header and every event are checked as `decodeHeader` and `decodeEvents`
 * check them, and nothing is allocated but the events themselves (no
 * header copy, no view per record: the readers hand out views into one
 * buffer for many records). A tombstone adds nothing. Returns the header.
 */
export function decodeRecordInto(
  bytes: Uint8Array,
  at: number,
  len: number,
  offset: number,
  upcasters: Upcasters,
  from: number,
  to: number,
  out: RecordedEvent[],
  stream?: KnownStream,
): CommitHeader {
  const buf = wholeBufferOf(bytes);
  const base = bytes.byteOffset + at;
  const header = decodeHeaderAt(buf, base, len, offset, stream);
  if (header.kind !== KIND_TOMBSTONE) eventsInto(buf, header.eventsAt, base + len, offset, header, upcasters, from, to, out);
  return header;
}

/** A Buffer over the whole ArrayBuffer of the views handed in lately (records of one read share one). */
let lastArrayBuffer: ArrayBufferLike | undefined;
let lastBuffer: Buffer = Buffer.alloc(0);

function wholeBufferOf(bytes: Uint8Array): Buffer {
  if (bytes.buffer !== lastArrayBuffer) {
    lastArrayBuffer = bytes.buffer;
    lastBuffer = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
  }
  return lastBuffer;
}

/**
 * Event types of the events decoded lately: a log holds a few types many
 * times, and comparing a few bytes costs a fraction of decoding a string.
 */
const TYPE_SLOTS = 64;
const typeBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(TYPE_SLOTS);
const typeNames: string[] = new Array<string>(TYPE_SLOTS).fill('');

function typeAt(buf: Buffer, at: number, len: number): string {
  if (len > 64) return buf.toString('utf8', at, at + len);
  const slot = (len * 31 + buf[at]! + buf[at + len - 1]! * 7) & (TYPE_SLOTS - 1);
  const known = typeBytes[slot];
  if (known !== undefined && sameBytes(buf, at, len, known)) return typeNames[slot]!;
  const name = buf.toString('utf8', at, at + len);
  typeBytes[slot] = new Uint8Array(buf.subarray(at, at + len));
  typeNames[slot] = name;
  return name;
}

function runsPast(offset: number, i: number): CorruptCommitError {
  return new CorruptCommitError(offset, `event ${i} runs past the payload`);
}

/**
 * The commit's events from `buf[at]` to `end` (the payload's end). A first
 * pass checks the layout of every event (as decodeEvents does, so damage
 * anywhere in the commit is reported before any data is parsed); the second
 * decodes the events asked for straight into the objects handed out.
 */
function eventsInto(buf: Buffer, at: number, end: number, offset: number, header: CommitHeader, upcasters: Upcasters, from: number, to: number, out: RecordedEvent[]): void {
  const { count, firstPosition } = header;
  let p = at;
  for (let i = 0; i < count; i++) {
    if (p + 1 > end) throw runsPast(offset, i);
    const idLen = buf[p]!;
    p += 1;
    if (p + idLen + 2 > end) throw runsPast(offset, i);
    p += idLen;
    const typeLen = buf.readUInt16LE(p);
    p += 2;
    if (p + typeLen + 5 > end) throw runsPast(offset, i);
    p += typeLen;
    const flags = buf[p]!;
    if ((flags & ~EVENT_FLAGS_KNOWN) !== 0) throw new CorruptCommitError(offset, `event ${i}: unknown flags ${flags}`);
    const metaLen = buf.readUInt32LE(p + 1);
    p += 5;
    if (p + metaLen + 4 > end) throw runsPast(offset, i);
    p += metaLen;
    const dataLen = buf.readUInt32LE(p);
    p += 4;
    if (p + dataLen > end) throw runsPast(offset, i);
    p += dataLen;
  }
  if (p !== end) throw new CorruptCommitError(offset, `${end - p} bytes after the last event`);

  const first = Math.max(from, firstPosition) - firstPosition;
  const last = Math.min(to, firstPosition + count - 1) - firstPosition;
  if (first > last) return;
  const recordedAt = new Date(header.timestamp);
  p = at;
  for (let i = 0; i <= last; i++) {
    const idLen = buf[p]!;
    const idAt = p + 1;
    p = idAt + idLen;
    const typeLen = buf.readUInt16LE(p);
    const typeStart = p + 2;
    p = typeStart + typeLen;
    const flags = buf[p]!;
    const metaLen = buf.readUInt32LE(p + 1);
    const metaAt = p + 5;
    p = metaAt + metaLen;
    const dataLen = buf.readUInt32LE(p);
    const dataAt = p + 4;
    p = dataAt + dataLen;
    if (i < first) continue;
    let type = typeAt(buf, typeStart, typeLen);
    let data: unknown =
      (flags & EVENT_DATA_BYTES) !== 0
        ? new Uint8Array(buf.subarray(dataAt, dataAt + dataLen)) // a copy, as a plain Uint8Array
        : JSON.parse(buf.toString('utf8', dataAt, dataAt + dataLen));
    let metadata = metaLen === 0 ? undefined : (JSON.parse(buf.toString('utf8', metaAt, metaAt + metaLen)) as Record<string, unknown>);
    // no intermediate object when no upcaster is registered for the type (upcast would return it as it is)
    if (Object.hasOwn(upcasters, type)) ({ type, data, metadata } = upcast(upcasters, { type, data, metadata }));
    out.push({
      id: buf.toString('utf8', idAt, idAt + idLen),
      type,
      data,
      metadata,
      stream: header.stream,
      streamPosition: firstPosition + i,
      globalPosition: offset + i,
      recordedAt,
    } as RecordedEvent);
  }
}
