import { CorruptCommitError } from '../errors.js';
import {
  COMMIT_HEADER_SIZE,
  EVENT_DATA_BYTES,
  EVENT_FIXED_SIZE,
  EVENT_FLAGS_KNOWN,
  EVENT_ID_GENERATED,
  KIND_COMMIT,
  KIND_TOMBSTONE,
  LAYOUT_VERSION,
  MAGIC_0,
  MAGIC_1,
  OFF_COUNT,
  OFF_FIRST_POSITION,
  OFF_KIND,
  OFF_RESERVED,
  OFF_STREAM_LEN,
  OFF_TIMESTAMP,
  OFF_VERSION,
  readU64,
  type RecordKind,
} from './layout.js';

/** A commit or tombstone header: all the stream index needs of a record. */
export interface CommitHeader {
  kind: RecordKind;
  stream: string;
  /** Commit: the stream position of its first event. Tombstone: the version deleted. */
  firstPosition: number;
  /** Events in the commit (0 for a tombstone). */
  count: number;
  /** Unix milliseconds of the append. */
  timestamp: number;
  /** Where the first event starts in the payload. */
  eventsAt: number;
}

/** One stored event, undecoded: byte ranges in the payload. */
export interface StoredEvent {
  id: string;
  type: string;
  /** The data is opaque bytes (else JSON text). */
  bytes: boolean;
  /** The store generated the id (the caller gave none): never looked up for retries. */
  generatedId: boolean;
  metadataStart: number;
  metadataEnd: number;
  dataStart: number;
  dataEnd: number;
  /** The event's content (type, flags, metadata, data): what makes a retry "the same event". */
  contentStart: number;
  contentEnd: number;
}

function bufferOf(payload: Uint8Array): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
}

/** Decodes a store record's header; throws STORE_CORRUPT_COMMIT for anything else. */
export function decodeHeader(payload: Uint8Array, offset: number): CommitHeader {
  return decodeHeaderAt(bufferOf(payload), 0, payload.length, offset);
}

/**
 * `decodeHeader` of the record payload at `buf[at, at + len)` (`eventsAt`
 * is then an index into `buf`). `stream`, when given, is the name the
 * caller expects: it is taken instead of decoding the name when the bytes
 * are the same (a stream's commits all carry its name).
 */
export function decodeHeaderAt(buf: Buffer, at: number, len: number, offset: number, stream?: { name: string; bytes: Uint8Array }): CommitHeader {
  if (len < COMMIT_HEADER_SIZE || buf[at] !== MAGIC_0 || buf[at + 1] !== MAGIC_1) throw new CorruptCommitError(offset, 'no store header');
  const kind = buf[at + OFF_KIND];
  if (kind !== KIND_COMMIT && kind !== KIND_TOMBSTONE) throw new CorruptCommitError(offset, `unknown kind ${kind}`);
  if (buf[at + OFF_VERSION] !== LAYOUT_VERSION) throw new CorruptCommitError(offset, `unknown layout version ${buf[at + OFF_VERSION]}`);
  const count = buf.readUInt32LE(at + OFF_COUNT);
  const firstPosition = readU64(buf, at + OFF_FIRST_POSITION);
  const timestamp = readU64(buf, at + OFF_TIMESTAMP);
  if (firstPosition === undefined || timestamp === undefined) throw new CorruptCommitError(offset, 'a u64 field beyond 2^53');
  const streamLen = buf.readUInt16LE(at + OFF_STREAM_LEN);
  const nameAt = at + COMMIT_HEADER_SIZE;
  const eventsAt = nameAt + streamLen;
  const end = at + len;
  if (eventsAt > end) throw new CorruptCommitError(offset, 'stream name beyond the payload');
  const name = stream !== undefined && sameBytes(buf, nameAt, streamLen, stream.bytes) ? stream.name : buf.toString('utf8', nameAt, eventsAt);
  if (buf.readUInt16LE(at + OFF_RESERVED) !== 0) throw new CorruptCommitError(offset, 'reserved bytes are not zero');
  if (kind === KIND_COMMIT && (count === 0 || firstPosition < 1)) throw new CorruptCommitError(offset, 'an empty commit');
  if (kind === KIND_TOMBSTONE && (count !== 0 || end !== eventsAt)) throw new CorruptCommitError(offset, 'a tombstone with events');
  return { kind, stream: name, firstPosition, count, timestamp, eventsAt };
}

/** True when `buf[at, at + len)` holds exactly `bytes`. */
export function sameBytes(buf: Uint8Array, at: number, len: number, bytes: Uint8Array): boolean {
  if (len !== bytes.length) return false;
  for (let i = 0; i < len; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

/** The events of a commit as byte ranges, in commit order. */
export function decodeEvents(payload: Uint8Array, header: CommitHeader, offset: number): StoredEvent[] {
  const buf = bufferOf(payload);
  const out: StoredEvent[] = [];
  let at = header.eventsAt;
  const need = (n: number): void => {
    if (at + n > buf.length) throw new CorruptCommitError(offset, `event ${out.length} runs past the payload`);
  };
  for (let i = 0; i < header.count; i++) {
    need(1);
    const idLen = buf[at]!;
    at += 1;
    need(idLen + 2);
    const id = buf.toString('utf8', at, at + idLen);
    at += idLen;
    const contentStart = at;
    const typeLen = buf.readUInt16LE(at);
    at += 2;
    need(typeLen + 5);
    const type = buf.toString('utf8', at, at + typeLen);
    at += typeLen;
    const flags = buf[at]!;
    if ((flags & ~EVENT_FLAGS_KNOWN) !== 0) throw new CorruptCommitError(offset, `event ${i}: unknown flags ${flags}`);
    const metaLen = buf.readUInt32LE(at + 1);
    at += 5;
    need(metaLen + 4);
    const metadataStart = at;
    at += metaLen;
    const dataLen = buf.readUInt32LE(at);
    at += 4;
    need(dataLen);
    out.push({ id, type, bytes: (flags & EVENT_DATA_BYTES) !== 0, generatedId: (flags & EVENT_ID_GENERATED) !== 0, metadataStart, metadataEnd: metadataStart + metaLen, dataStart: at, dataEnd: at + dataLen, contentStart, contentEnd: at + dataLen });
    at += dataLen;
  }
  if (at !== buf.length) throw new CorruptCommitError(offset, `${buf.length - at} bytes after the last event`);
  return out;
}

/** The data of a stored event, parsed (JSON) or copied (bytes). */
export function dataOf(payload: Uint8Array, e: StoredEvent): unknown {
  const buf = bufferOf(payload);
  if (e.bytes) return new Uint8Array(buf.subarray(e.dataStart, e.dataEnd)); // a copy, as a plain Uint8Array
  return JSON.parse(buf.toString('utf8', e.dataStart, e.dataEnd));
}

/** The metadata of a stored event, or undefined when it has none. */
export function metadataOf(payload: Uint8Array, e: StoredEvent): Record<string, unknown> | undefined {
  if (e.metadataEnd === e.metadataStart) return undefined;
  return JSON.parse(bufferOf(payload).toString('utf8', e.metadataStart, e.metadataEnd)) as Record<string, unknown>;
}

export { bufferOf };
