import { StoreInvalidArgumentError } from '../errors.js';
import type { Event } from '../types.js';
import { UUID_BYTES, uuidv7Into } from '../uuidv7.js';
import {
  COMMIT_HEADER_SIZE,
  EVENT_DATA_BYTES,
  EVENT_FIXED_SIZE,
  EVENT_ID_GENERATED,
  KIND_COMMIT,
  KIND_TOMBSTONE,
  LAYOUT_VERSION,
  MAGIC_0,
  MAGIC_1,
  MAX_EVENTS_PER_COMMIT,
  MAX_ID_BYTES,
  MAX_TYPE_BYTES,
  OFF_COUNT,
  OFF_FIRST_POSITION,
  OFF_KIND,
  OFF_RESERVED,
  OFF_STREAM_LEN,
  OFF_TIMESTAMP,
  OFF_VERSION,
  writeU16,
  writeU32,
  writeU64,
  type RecordKind,
} from './layout.js';

/** One event checked and serialised once, before any version is reserved. */
export interface PreparedEvent {
  /** The id the caller gave; '' for a generated one, made when the payload is written. */
  id: string;
  idBytes: number;
  type: string;
  typeBytes: number;
  /** EVENT_DATA_BYTES, EVENT_ID_GENERATED. */
  flags: number;
  /** The store generated the id: the caller cannot retry with it, so it is not remembered. */
  generated: boolean;
  /** JSON text of the data, or the bytes themselves. */
  data: string | Uint8Array;
  dataBytes: number;
  /** JSON text of the metadata, or undefined. */
  metadata: string | undefined;
  metadataBytes: number;
}

/** A commit's events, validated and serialised: what remains is the header, once versions are known. */
export interface PreparedCommit {
  stream: string;
  streamBytes: number;
  events: PreparedEvent[];
  /** The encoded payload's size. */
  size: number;
  /** The ids the caller gave (generated ones cannot be retried, so they are never looked up or remembered). */
  givenIds: readonly string[];
}

const NO_IDS: readonly string[] = Object.freeze([]);

/** Where an event's checks name it (made only for an error message). */
function eventName(i: number, stream: string): string {
  return `event ${i} of the commit to "${stream}"`;
}

/** The UTF-8 length of the event type met last: a commit's types repeat, and so do an app's. */
let lastType = '';
let lastTypeBytes = 0;

function typeBytesOf(type: string): number {
  if (type !== lastType) {
    lastTypeBytes = Buffer.byteLength(type);
    lastType = type;
  }
  return lastTypeBytes;
}

/** Writes a string known to be ASCII (one byte per UTF-16 unit) at `at`; returns its length. */
export function writeAscii(buf: Buffer, s: string, at: number): number {
  const n = s.length;
  if (n > 64) return buf.write(s, at, n, 'latin1');
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  return n;
}

/** The JSON of event `i`'s data or metadata; its message names the event only when it throws (no string made per event). */
export function jsonOf(value: unknown, i: number, stream: string, part: 'data' | 'metadata'): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new StoreInvalidArgumentError(`${eventName(i, stream)}: ${part} cannot be serialised as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw new StoreInvalidArgumentError(`${eventName(i, stream)}: ${part} cannot be serialised as JSON (${typeof value})`);
  return text;
}

/**
 * The metadata object serialised last, with its JSON: the commits of one
 * `appendEach` call often share one metadata object (an app's producer and
 * schema), and its JSON is then made once. Held for one call only, never
 * across calls (the object could change in between).
 */
export interface MetadataMemo {
  object: unknown;
  json: string;
  bytes: number;
}

/** A memo for the commits of one call. */
export function metadataMemo(): MetadataMemo {
  return { object: undefined, json: '', bytes: 0 };
}

/**
 * Validates and serialises the events of one commit: every JSON text is
 * made here, once, and written into the record as it is (no envelope is
 * stringified a second time). Throws STORE_INVALID_ARGUMENT; nothing is
 * reserved or written before it returns. With a memo, a metadata object
 * met just before in the same call is not serialised again.
 */
export function prepareCommit(stream: string, events: readonly Event[], memo?: MetadataMemo): PreparedCommit {
  if (!Array.isArray(events)) throw new StoreInvalidArgumentError('events must be an array');
  if (events.length === 0) throw new StoreInvalidArgumentError(`a commit to "${stream}" needs at least one event`);
  if (events.length > MAX_EVENTS_PER_COMMIT) throw new StoreInvalidArgumentError(`a commit holds at most ${MAX_EVENTS_PER_COMMIT} events, not ${events.length}`);
  const streamBytes = Buffer.byteLength(stream);
  let size = COMMIT_HEADER_SIZE + streamBytes;
  const prepared: PreparedEvent[] = [];
  // a commit of one event cannot repeat an id: no set to look it up in
  const seen = events.length > 1 ? new Set<string>() : undefined;
  let givenIds = NO_IDS;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (typeof e !== 'object' || e === null) throw new StoreInvalidArgumentError(`${eventName(i, stream)} is not an object`);
    const { type, data, metadata } = e;
    if (typeof type !== 'string' || type.length === 0) throw new StoreInvalidArgumentError(`${eventName(i, stream)} needs a non-empty string type`);
    const typeBytes = typeBytesOf(type);
    if (typeBytes > MAX_TYPE_BYTES) throw new StoreInvalidArgumentError(`${eventName(i, stream)}: type is longer than ${MAX_TYPE_BYTES} bytes`);
    const generated = e.id === undefined;
    // a generated id is made where the payload is written (uuidv7Into): no string for it
    const id = generated ? '' : e.id;
    if (!generated && (typeof id !== 'string' || id.length === 0)) throw new StoreInvalidArgumentError(`${eventName(i, stream)}: id must be a non-empty string`);
    const idBytes = generated ? UUID_BYTES : Buffer.byteLength(id);
    if (idBytes > MAX_ID_BYTES) throw new StoreInvalidArgumentError(`${eventName(i, stream)}: id is longer than ${MAX_ID_BYTES} bytes`);
    if (seen !== undefined && !generated) {
      if (seen.has(id)) throw new StoreInvalidArgumentError(`${eventName(i, stream)}: event id ${id} appears twice in the commit`);
      seen.add(id);
    }
    if (!generated) (givenIds === NO_IDS ? (givenIds = []) : (givenIds as string[])).push(id);
    const isBytes = data instanceof Uint8Array;
    const body = isBytes ? data : jsonOf(data, i, stream, 'data');
    const dataBytes = isBytes ? data.length : Buffer.byteLength(body as string);
    let meta: string | undefined;
    let metadataBytes = 0;
    if (metadata !== undefined) {
      if (memo !== undefined && memo.object === metadata) {
        meta = memo.json;
        metadataBytes = memo.bytes;
      } else {
        if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
          throw new StoreInvalidArgumentError(`${eventName(i, stream)}: metadata must be a plain object`);
        }
        meta = jsonOf(metadata, i, stream, 'metadata');
        // an object whose JSON is not one (a Date, a toJSON returning a string) would read back as a string or number
        if (meta.charCodeAt(0) !== 0x7b /* { */) {
          throw new StoreInvalidArgumentError(`${eventName(i, stream)}: metadata must be a plain object, and this one encodes as JSON ${meta.length > 40 ? `${meta.slice(0, 40)}...` : meta}`);
        }
        metadataBytes = Buffer.byteLength(meta);
        if (memo !== undefined) {
          memo.object = metadata;
          memo.json = meta;
          memo.bytes = metadataBytes;
        }
      }
    }
    size += EVENT_FIXED_SIZE + idBytes + typeBytes + metadataBytes + dataBytes;
    const flags = (isBytes ? EVENT_DATA_BYTES : 0) | (generated ? EVENT_ID_GENERATED : 0);
    prepared.push({ id, idBytes, type, typeBytes, flags, generated, data: body, dataBytes, metadata: meta, metadataBytes });
  }
  return { stream, streamBytes, events: prepared, size, givenIds };
}

/** Writes a record header at `base` (plain byte stores: Buffer's checked writers cost more than the rest of a small commit). */
export function writeHeader(buf: Buffer, base: number, kind: RecordKind, stream: string, streamBytes: number, count: number, firstPosition: number, timestamp: number): number {
  buf[base] = MAGIC_0;
  buf[base + 1] = MAGIC_1;
  buf[base + OFF_KIND] = kind;
  buf[base + OFF_VERSION] = LAYOUT_VERSION;
  writeU32(buf, count, base + OFF_COUNT);
  writeU64(buf, firstPosition, base + OFF_FIRST_POSITION);
  writeU64(buf, timestamp, base + OFF_TIMESTAMP);
  writeU16(buf, streamBytes, base + OFF_STREAM_LEN);
  writeU16(buf, 0, base + OFF_RESERVED);
  const at = base + COMMIT_HEADER_SIZE;
  // stream names are ASCII (validateStreamName)
  return at + (streamBytes === stream.length ? writeAscii(buf, stream, at) : buf.write(stream, at, 'utf8'));
}

/** The commit record's payload, once its first stream position is reserved. */
export function encodeCommit(commit: PreparedCommit, firstPosition: number, timestamp: number): Uint8Array {
  const buf = Buffer.allocUnsafe(commit.size);
  encodeCommitInto(buf, 0, commit, firstPosition, timestamp);
  return buf;
}

/** Writes the commit's payload at `buf[base, base + commit.size)`; returns where it ends. */
export function encodeCommitInto(buf: Buffer, base: number, commit: PreparedCommit, firstPosition: number, timestamp: number): number {
  let at = writeHeader(buf, base, KIND_COMMIT, commit.stream, commit.streamBytes, commit.events.length, firstPosition, timestamp);
  for (const e of commit.events) {
    buf[at] = e.idBytes;
    at += 1;
    if (e.generated) {
      uuidv7Into(buf, at);
      at += UUID_BYTES;
    }
    // ASCII (as many bytes as UTF-16 units) is copied byte by byte: a short string's utf8 write costs more
    else at += e.idBytes === e.id.length ? writeAscii(buf, e.id, at) : buf.write(e.id, at, 'utf8');
    writeU16(buf, e.typeBytes, at);
    at += 2;
    at += e.typeBytes === e.type.length ? writeAscii(buf, e.type, at) : buf.write(e.type, at, 'utf8');
    buf[at] = e.flags;
    writeU32(buf, e.metadataBytes, at + 1);
    at += 5;
    if (e.metadata !== undefined) at += buf.write(e.metadata, at, 'utf8');
    writeU32(buf, e.dataBytes, at);
    at += 4;
    if (typeof e.data === 'string') at += buf.write(e.data, at, 'utf8');
    else {
      buf.set(e.data, at);
      at += e.data.length;
    }
  }
  return at;
}

/** A tombstone's payload: the stream was deleted at `version`. */
export function encodeTombstone(stream: string, version: number, timestamp: number): Uint8Array {
  const streamBytes = Buffer.byteLength(stream);
  const buf = Buffer.allocUnsafe(COMMIT_HEADER_SIZE + streamBytes);
  writeHeader(buf, 0, KIND_TOMBSTONE, stream, streamBytes, 0, version, timestamp);
  return buf;
}
