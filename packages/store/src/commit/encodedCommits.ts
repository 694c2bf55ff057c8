import { CommitTooLargeError, StoreInvalidArgumentError } from '../errors.js';
import { validateExpectedVersion } from '../expectedVersion.js';
import { validateStreamName } from '../streamName.js';
import type { Event, ExpectedVersion } from '../types.js';
import { UUID_BYTES, uuidv7Into } from '../uuidv7.js';
import { encodeCommitInto, jsonOf, metadataMemo, prepareCommit, writeAscii, writeHeader, type MetadataMemo } from './encodeCommit.js';
import { dataOf, decodeEvents, metadataOf } from './decodeCommit.js';
import { COMMIT_HEADER_SIZE, EVENT_FIXED_SIZE, EVENT_ID_GENERATED, KIND_COMMIT, MAX_TYPE_BYTES, OFF_COUNT, OFF_STREAM_LEN, readU32, writeU16, writeU32 } from './layout.js';

/**
 * Commits encoded ahead of their append, on any thread (an import's
 * worker), by an `EncodedCommitsBuilder`: their record payloads back to back
 * in one buffer, each with its stream position and time left for the
 * append to fill in. Plain typed arrays and a list of strings, so a worker
 * hands a batch over with its buffers transferred, at no cost per commit.
 * What `LocalEventStore.appendEncoded` takes.
 */
export interface EncodedCommits {
  /** The payloads, back to back. */
  readonly bytes: Uint8Array;
  /** Where each commit's payload ends in `bytes` (it starts where the one before ended). */
  readonly ends: Int32Array;
  /** Each commit's stream. */
  readonly streams: readonly string[];
  /** Each commit's expected version: a version (>= 0), or EXPECT_ANY, EXPECT_NO_STREAM, EXPECT_STREAM_EXISTS. */
  readonly expected: Float64Array;
}

export const EXPECT_ANY = -1;
export const EXPECT_NO_STREAM = -2;
export const EXPECT_STREAM_EXISTS = -3;

/** An expected version as the number an EncodedCommits holds. */
export function expectedCode(e: ExpectedVersion): number {
  return e === 'any' ? EXPECT_ANY : e === 'no_stream' ? EXPECT_NO_STREAM : e === 'stream_exists' ? EXPECT_STREAM_EXISTS : e;
}

/** The expected version an EncodedCommits' number stands for (undefined for a number that stands for none). */
export function expectedOf(code: number): ExpectedVersion | undefined {
  if (code === EXPECT_ANY) return 'any';
  if (code === EXPECT_NO_STREAM) return 'no_stream';
  if (code === EXPECT_STREAM_EXISTS) return 'stream_exists';
  return Number.isSafeInteger(code) && code >= 0 ? code : undefined;
}

const FIRST_CAPACITY = 64 * 1024;

/**
 * Gathers commits as `EncodedCommits`: each is checked when added, as
 * `appendEach` checks a commit (stream name, events, expected version,
 * size; the same typed errors, and nothing is added when one is thrown),
 * and encoded into the batch's buffer at once. Its events' ids are the
 * store's to make: an event that names its id is refused, because a commit
 * with ids may be a retry, which only `appendEach` and `appendToStream`
 * recognise. Not shared between threads: each thread has its own builder.
 */
export class EncodedCommitsBuilder {
  private buf: Buffer;
  private used = 0;
  /** Per commit added: where it ends, its stream, its expected version (columns that grow; `count` in use). */
  private count = 0;
  private ends = new Int32Array(1024);
  private streams: string[] = [];
  private expected = new Float64Array(1024);
  /** The commits of one batch often share a metadata object: its JSON is made once per batch. */
  private memo: MetadataMemo = metadataMemo();
  /** The metadata object the memo may keep across adds (see keepMemo), and its JSON's bytes. */
  private kept: unknown;
  private keptBytes: Uint8Array = new Uint8Array(0);
  /** The batch `addEncoded` copied from last, as a Buffer. */
  private from: EncodedCommits | undefined;
  private fromBytes: Buffer = Buffer.alloc(0);
  /** The event type met last and its UTF-8 length (an import's are all one). */
  private lastType = '';
  private lastTypeBytes = 0;

  constructor(
    /** The journal's payload limit (the store checks it again at the append). */
    private readonly maxPayloadBytes: number,
    capacity = FIRST_CAPACITY,
  ) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /** Commits added since the last `take`. */
  get size(): number {
    return this.count;
  }

  /** Checks and encodes a commit of `events` to `stream`; throws the typed error of the first thing wrong (nothing added). */
  add(stream: string, events: readonly Event[], expectedVersion?: ExpectedVersion): void {
    validateStreamName(stream);
    const expected = expectedCode(validateExpectedVersion(expectedVersion));
    if (Array.isArray(events) && events.length === 1 && this.addOne(stream, events[0]!, expected)) return;
    const prepared = prepareCommit(stream, events, this.memo);
    this.keepMemo();
    if (prepared.givenIds.length > 0) {
      throw new StoreInvalidArgumentError(`an encoded commit's events get their ids from the store (event id ${prepared.givenIds[0]} given): append a commit with ids through appendEach, which recognises a retry`);
    }
    if (prepared.size > this.maxPayloadBytes) throw new CommitTooLargeError(stream, prepared.size, this.maxPayloadBytes);
    this.room(prepared.size);
    // position and time are the append's: 0 until then
    this.used = encodeCommitInto(this.buf, this.used, prepared, 0, 0);
    this.push(this.used, stream, expected);
  }

  /**
   * The common commit, one event with JSON data, no id, and no metadata or
   * the kept one, written straight into the buffer: no object on the way,
   * the id generated into its bytes, the metadata's bytes copied. False
   * (nothing written) for any other commit: `add` takes the general way,
   * whose checks and errors are those of `appendEach`.
   */
  private addOne(stream: string, e: Event, expected: number): boolean {
    if (typeof e !== 'object' || e === null || e.id !== undefined || (e.metadata !== undefined && e.metadata !== this.kept)) return false;
    const { type, data } = e;
    if (typeof type !== 'string' || type.length === 0 || data instanceof Uint8Array) return false;
    if (type !== this.lastType) {
      this.lastTypeBytes = Buffer.byteLength(type);
      this.lastType = type;
    }
    const typeBytes = this.lastTypeBytes;
    if (typeBytes > MAX_TYPE_BYTES) return false;
    const json = jsonOf(data, 0, stream, 'data');
    const meta = e.metadata === undefined ? undefined : this.keptBytes;
    const metaBytes = meta === undefined ? 0 : meta.length;
    // room for the worst case (3 bytes per UTF-16 unit), then the size as written
    this.room(COMMIT_HEADER_SIZE + stream.length + EVENT_FIXED_SIZE + UUID_BYTES + typeBytes + metaBytes + 3 * json.length);
    const buf = this.buf;
    const base = this.used;
    let at = writeHeader(buf, base, KIND_COMMIT, stream, stream.length, 1, 0, 0);
    buf[at] = UUID_BYTES;
    uuidv7Into(buf, at + 1);
    at += 1 + UUID_BYTES;
    writeU16(buf, typeBytes, at);
    at += 2;
    at += typeBytes === type.length ? writeAscii(buf, type, at) : buf.write(type, at, 'utf8');
    buf[at] = EVENT_ID_GENERATED;
    writeU32(buf, metaBytes, at + 1);
    at += 5;
    if (meta !== undefined) {
      buf.set(meta, at);
      at += metaBytes;
    }
    const dataAt = at + 4;
    const dataBytes = buf.write(json, dataAt, 'utf8');
    writeU32(buf, dataBytes, at);
    at = dataAt + dataBytes;
    if (at - base > this.maxPayloadBytes) throw new CommitTooLargeError(stream, at - base, this.maxPayloadBytes);
    this.used = at;
    this.push(at, stream, expected);
    return true;
  }

  /** Adds commit `i` of another batch as it is (its checks were made where it was built; the append checks its framing). */
  addEncoded(from: EncodedCommits, i: number): void {
    this.addEncodedRange(from, i, i + 1);
  }

  /** Adds commits `first` to `end` (exclusive) of another batch as they are, with one copy of their bytes. */
  addEncodedRange(from: EncodedCommits, first: number, end: number): void {
    if (end <= first) return;
    const start = first === 0 ? 0 : from.ends[first - 1]!;
    const stop = from.ends[end - 1]!;
    this.room(stop - start);
    // one Buffer view per batch copied from, not a view per commit
    if (from !== this.from) {
      this.from = from;
      this.fromBytes = Buffer.from(from.bytes.buffer, from.bytes.byteOffset, from.bytes.length);
    }
    this.fromBytes.copy(this.buf, this.used, start, stop);
    const shift = this.used - start;
    for (let i = first; i < end; i++) this.push(from.ends[i]! + shift, from.streams[i]!, from.expected[i]!);
    this.used += stop - start;
  }

  /** The commits added so far, as a batch with buffers of its own (transferable); the builder starts again empty. */
  take(): EncodedCommits {
    const batch: EncodedCommits = {
      bytes: new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.used),
      ends: this.ends.slice(0, this.count),
      streams: this.streams,
      expected: this.expected.slice(0, this.count),
    };
    // the next batch is likely the size of this one
    this.buf = Buffer.allocUnsafeSlow(Math.max(FIRST_CAPACITY, this.used + (this.used >>> 3)));
    this.used = 0;
    this.count = 0;
    this.streams = [];
    this.memo = metadataMemo();
    return batch;
  }

  /**
   * The memo outlives one call here, so it keeps only a metadata object
   * that cannot change between adds: frozen, with no object inside (an
   * app's `{ producer, schema }`); any other is serialised for each commit.
   */
  private keepMemo(): void {
    const m = this.memo.object;
    if (m === undefined || m === this.kept) return;
    if (Object.isFrozen(m) && Object.values(m as object).every((v) => v === null || typeof v !== 'object')) {
      this.kept = m;
      this.keptBytes = Buffer.from(this.memo.json, 'utf8');
    } else this.memo = metadataMemo();
  }

  private push(end: number, stream: string, expected: number): void {
    const k = this.count++;
    if (k === this.ends.length) {
      const ends = new Int32Array(k * 2);
      ends.set(this.ends);
      this.ends = ends;
      const exp = new Float64Array(k * 2);
      exp.set(this.expected);
      this.expected = exp;
    }
    this.ends[k] = end;
    this.expected[k] = expected;
    this.streams.push(stream);
  }

  private room(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + n));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

/**
 * The events of commit `i` of a batch, decoded again (type, data and
 * metadata; without the ids, which are the store's to make): what a caller
 * needs to append a refused commit another way.
 */
export function eventsOfEncoded(batch: EncodedCommits, i: number): Event[] {
  const start = i === 0 ? 0 : batch.ends[i - 1]!;
  const payload = batch.bytes.subarray(start, batch.ends[i]!);
  const eventsAt = COMMIT_HEADER_SIZE + (payload[OFF_STREAM_LEN]! | (payload[OFF_STREAM_LEN + 1]! << 8));
  const header = { kind: KIND_COMMIT, stream: batch.streams[i]!, firstPosition: 0, count: readU32(payload, OFF_COUNT), timestamp: 0, eventsAt } as const;
  return decodeEvents(payload, header, -1).map((e) => {
    const metadata = metadataOf(payload, e);
    return metadata === undefined ? { type: e.type, data: dataOf(payload, e) } : { type: e.type, data: dataOf(payload, e), metadata };
  });
}
