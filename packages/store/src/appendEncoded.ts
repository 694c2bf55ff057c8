import type { Appended } from '@episteme/wal';
import type { PendingWrite, WriteDone } from './commitPipeline.js';
import { expectedOf, type EncodedCommits } from './commit/encodedCommits.js';
import {
  COMMIT_HEADER_SIZE,
  EVENT_FLAGS_KNOWN,
  EVENT_ID_GENERATED,
  KIND_COMMIT,
  LAYOUT_VERSION,
  MAGIC_0,
  MAGIC_1,
  OFF_COUNT,
  OFF_KIND,
  OFF_RESERVED,
  OFF_STREAM_LEN,
  OFF_VERSION,
  readU32,
} from './commit/layout.js';
import { describeValue } from './describeValue.js';
import { CommitTooLargeError, StoreInvalidArgumentError } from './errors.js';
import { validateStreamName } from './streamName.js';
import type { AppendResult, DeleteStreamResult } from './types.js';

/**
 * How the commits of one `appendEncoded` went, by index: typed arrays, no
 * object per commit (a refused one has its error).
 */
export interface EncodedOutcomes {
  /** Per commit: the global position of its last event (AppendResult's `globalPosition`), or -1 when it was refused. */
  readonly positions: Float64Array;
  /** Per commit: the stream's version after it (AppendResult's `nextExpectedVersion`), or -1 when it was refused. */
  readonly versions: Float64Array;
  /** The refused commits, by index: the typed error `appendToStream` would have rejected with. */
  readonly refused: ReadonlyMap<number, unknown>;
}

/** The outcomes of one `appendEncoded`, filled slot by slot; `promise` resolves with the last. */
export class EncodedOutcomesOf implements WriteDone, EncodedOutcomes {
  readonly positions: Float64Array;
  readonly versions: Float64Array;
  readonly refused = new Map<number, unknown>();
  readonly promise: Promise<EncodedOutcomes>;
  private left: number;
  private resolve!: (outcomes: EncodedOutcomes) => void;

  constructor(count: number) {
    this.positions = new Float64Array(count);
    this.versions = new Float64Array(count);
    this.left = count;
    this.promise = new Promise((resolve) => (this.resolve = resolve));
    if (count === 0) this.resolve(this);
  }

  writtenAt(slot: number, w: PendingWrite, at: Appended): void {
    this.positions[slot] = at.offset + w.count - 1;
    this.versions[slot] = w.firstPosition + w.count - 1;
    if (--this.left === 0) this.resolve(this);
  }

  written(slot: number, result: AppendResult | DeleteStreamResult): void {
    this.positions[slot] = result.globalPosition;
    this.versions[slot] = 'nextExpectedVersion' in result ? result.nextExpectedVersion : 0;
    if (--this.left === 0) this.resolve(this);
  }

  failed(slot: number, err: unknown): void {
    this.positions[slot] = -1;
    this.versions[slot] = -1;
    this.refused.set(slot, err);
    if (--this.left === 0) this.resolve(this);
  }
}

/**
 * Checks a batch before anything is reserved: its shape, and each commit's
 * framing as an `EncodedCommitsBuilder` makes it (the store header with the
 * stream named beside it, events whose fields fit the payload exactly, ids
 * generated, a valid stream name and expected version, the size limit).
 * Throws the typed error of the first thing wrong. The events' JSON is not
 * parsed again: the builder made it with JSON.stringify.
 */
export function checkEncoded(batch: EncodedCommits, maxPayloadBytes: number): void {
  if (typeof batch !== 'object' || batch === null) throw new StoreInvalidArgumentError(`appendEncoded takes an EncodedCommits batch, not ${describeValue(batch)}`);
  const { bytes, ends, streams, expected } = batch;
  if (!(bytes instanceof Uint8Array) || !(ends instanceof Int32Array) || !Array.isArray(streams) || !(expected instanceof Float64Array)) {
    throw new StoreInvalidArgumentError('appendEncoded takes an EncodedCommits batch (bytes, ends, streams, expected), as an EncodedCommitsBuilder makes it');
  }
  const n = ends.length;
  if (streams.length !== n || expected.length !== n) throw new StoreInvalidArgumentError(`an encoded batch of ${n} commits has ${streams.length} streams and ${expected.length} expected versions`);
  if (n > 0 && ends[n - 1] !== bytes.length) throw new StoreInvalidArgumentError(`an encoded batch's commits end at ${ends[n - 1]}, its bytes at ${bytes.length}`);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    const stream = validateStreamName(streams[i]);
    if (expectedOf(expected[i]!) === undefined) throw new StoreInvalidArgumentError(`commit ${i} of an encoded batch: ${expected[i]} stands for no expected version`);
    if (end - start > maxPayloadBytes) throw new CommitTooLargeError(stream, end - start, maxPayloadBytes);
    const why = end < start ? 'ends before it starts' : framingError(bytes, start, end, stream);
    if (why !== undefined) throw new StoreInvalidArgumentError(`commit ${i} of an encoded batch (to "${stream}") is not as an EncodedCommitsBuilder makes it: ${why}`);
    start = end;
  }
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

/** Why `b[start, end)` is not a commit to `stream` as the builder encodes it, or undefined. */
function framingError(b: Uint8Array, start: number, end: number, stream: string): string | undefined {
  if (end - start < COMMIT_HEADER_SIZE || b[start] !== MAGIC_0 || b[start + 1] !== MAGIC_1) return 'no store header';
  if (b[start + OFF_KIND] !== KIND_COMMIT || b[start + OFF_VERSION] !== LAYOUT_VERSION) return 'not a commit of this layout';
  const count = readU32(b, start + OFF_COUNT);
  if (count === 0) return 'no events';
  if (u16(b, start + OFF_RESERVED) !== 0) return 'reserved bytes are not zero';
  const nameLen = u16(b, start + OFF_STREAM_LEN);
  let at = start + COMMIT_HEADER_SIZE;
  if (nameLen !== stream.length || at + nameLen > end) return 'another stream name';
  // stream names are ASCII (validateStreamName): one byte a character
  for (let k = 0; k < nameLen; k++) if (b[at + k] !== stream.charCodeAt(k)) return 'another stream name';
  at += nameLen;
  for (let e = 0; e < count; e++) {
    if (at + 1 > end) return `event ${e} runs past the payload`;
    at += 1 + b[at]!;
    if (at + 2 > end) return `event ${e} runs past the payload`;
    at += 2 + u16(b, at);
    if (at + 5 > end) return `event ${e} runs past the payload`;
    const flags = b[at]!;
    if ((flags & ~EVENT_FLAGS_KNOWN) !== 0 || (flags & EVENT_ID_GENERATED) === 0) return `event ${e}: flags ${flags} (ids are the store's)`;
    at += 5 + readU32(b, at + 1);
    if (at + 4 > end) return `event ${e} runs past the payload`;
    at += 4 + readU32(b, at);
    if (at > end) return `event ${e} runs past the payload`;
  }
  return at === end ? undefined : `${end - at} bytes after the last event`;
}
