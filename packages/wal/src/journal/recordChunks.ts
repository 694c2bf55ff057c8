import { InvalidArgumentError, type CutReason } from '../errors.js';
import type { TransientReadBuffer } from '../log/logReader.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { readU32 } from '../format/record.js';
import { checksums } from '../checksum/index.js';
import { readFully, type FileIO } from '../io/fileIO.js';

/**
 * Sequential reads that hand records out to keep (`readMany`, `readFrom`)
 * with `verifyOnRead: 'crc'`: the file's bytes are read straight into a
 * fresh chunk, each record is checked (its CRC32C) where it lies, and the
 * records are views into that chunk. One `pread` per chunk and no copy:
 * before, the bytes went into the segment's window, then record by record
 * into a chunk.
 *
 * A chunk is never written again once read, so the next batch that starts
 * where the last one ended takes its records from the same chunk; a chunk
 * only holds bytes below the head as it was when they were read (bytes past
 * a head may still be rolled back by the writer).
 */

/**
 * Bytes read per chunk (a larger record gets a chunk of its own). Records
 * keep their chunk alive, so this is what one kept record may hold in
 * memory at most (or its own size, when larger). Below glibc's 128 KiB mmap
 * threshold, so that a chunk comes from and goes back to malloc's free
 * lists, not from a fresh mapping. Measured at 4 KiB records (bench
 * README, issue 24): 64, 124 and 256 KiB cost the same CPU per record
 * within the noise, and no minor faults; what a fresh chunk costs is the
 * collections V8 starts per MiB of ArrayBuffers allocated and the copy into
 * memory no longer in cache, which no chunk size changes.
 */
export const CHUNK_BYTES = 124 * 1024;

/** The bytes of one segment file, `[start, start + bytes.length)`, read below the head of their time. */
export interface RecordChunk {
  bytes: Uint8Array;
  /** File position of bytes[0]. */
  start: number;
  /** File position where the next unused record begins (everything before it was handed out). */
  end: number;
}

/**
 * A record handed out of a chunk. `payload` and `blake3` are views into the
 * chunk: keeping one record keeps its chunk (CHUNK_BYTES, 124 KiB, or the record's own size) alive.
 */
export interface ChunkedRecord {
  offset: number;
  payload: Uint8Array;
  blake3: Uint8Array;
  next: number;
}

/**
 * The one buffer a transient reader (`transient: true`) reads every chunk
 * into: its records are views that the next chunk's read overwrites, so no
 * fresh pages per chunk (at 4 KiB records, page faults and the collection of
 * chunks cost more than the CRC32C). `seg` and `chunk` say what it holds now.
 */
export interface ChunkScratch {
  bytes: Uint8Array | undefined;
  /** The segment `chunk` is of, and its `dropped` count when it was read. */
  seg: unknown;
  dropped: number | undefined;
  chunk: RecordChunk | undefined;
  /** The `next` of the last record a transient readMany handed out: a call from there goes on from a checked record. */
  handedOut: number;
}

export function newChunkScratch(): ChunkScratch {
  return { bytes: undefined, seg: undefined, dropped: undefined, chunk: undefined, handedOut: -1 };
}

export interface ChunkScan {
  /** File position after the last record taken. */
  end: number;
  /** Set when the record at `end` is invalid (not merely outside the chunk). */
  failure?: { position: number; reason: CutReason };
  /** The chunk to keep for the next batch. */
  chunk: RecordChunk | undefined;
}

/**
 * Up to `max` records from file position `start` (a record boundary), below
 * file position `limit` (the head's), pushed onto `out`: from `chunk` when
 * it holds `start`, else from a new chunk read at `start`. `base` turns a
 * file position into a global offset. Stops at the first invalid record
 * (its position and reason in `failure`, as scanSegment reports them).
 * With `scratch`, chunks are read into its buffer, and the scan stops
 * before a second read would overwrite records already in `out`. It also
 * stops once the records taken reach `maxBytes` (at least one record).
 */
export function readChunked(
  io: FileIO,
  fd: number,
  chunk: RecordChunk | undefined,
  start: number,
  limit: number,
  max: number,
  maxPayloadBytes: number,
  base: number,
  out: ChunkedRecord[],
  scratch?: ChunkScratch,
  maxBytes = Number.POSITIVE_INFINITY,
): ChunkScan {
  const cs = checksums();
  const offsetOf = base - HEADER_SIZE; // a file position plus this is a global offset
  let pos = start;
  let taken = 0;
  const stop = Math.min(limit, start + Math.max(maxBytes, 1)); // records start below it: at least one
  while (taken < max && pos < stop) {
    if (chunk === undefined || pos < chunk.start || pos + RECORD_OVERHEAD > chunk.start + chunk.bytes.length) {
      if (scratch && taken > 0) break; // the read would overwrite the records taken
      chunk = readChunk(io, fd, pos, limit, CHUNK_BYTES, scratch);
      if (chunk === undefined) return { end: pos, failure: { position: pos, reason: 'torn-header' }, chunk };
    }
    const bytes = chunk.bytes;
    const shift = chunk.start;
    const have = shift + bytes.length;
    const { buffer, byteOffset } = bytes;
    // records from pos up to `checked` (a file position) are whole and their CRC32C matches: checked as a run, in one native call
    let checked = pos;
    while (taken < max && pos + RECORD_OVERHEAD <= have && pos < stop) {
      const i = pos - shift;
      const n = readU32(bytes, i);
      if (n > maxPayloadBytes) return { end: pos, failure: { position: pos, reason: 'length-over-limit' }, chunk };
      const next = pos + RECORD_OVERHEAD + n;
      if (next > limit) return { end: pos, failure: { position: pos, reason: 'torn-payload' }, chunk };
      if (next > have) break;
      const end = i + RECORD_OVERHEAD + n;
      if (next > checked && cs.verifyRun !== undefined) checked = shift + cs.verifyRun(bytes, i, Math.min(bytes.length, limit - shift), stop - shift, maxPayloadBytes, max - taken);
      // the record the run stopped at is checked here, record by record, and classified as before
      if (next > checked && cs.crc32c(bytes, i + 8, end, cs.crc32c(bytes, i, i + 4, 0)) !== readU32(bytes, i + 4)) {
        return { end: pos, failure: { position: pos, reason: 'crc-mismatch' }, chunk };
      }
      const offset = offsetOf + pos;
      out.push({ offset, payload: new Uint8Array(buffer, byteOffset + i + RECORD_OVERHEAD, n), blake3: new Uint8Array(buffer, byteOffset + i + 8, 32), next: offsetOf + next });
      taken++;
      pos = next;
    }
    chunk.end = pos;
    if (taken < max && pos < stop && pos + RECORD_OVERHEAD <= have) {
      // the record at pos does not fit in what is read: a chunk of its own (its length is within the limits: checked above)
      if (scratch && taken > 0) break; // the read would overwrite the records taken
      const size = RECORD_OVERHEAD + readU32(bytes, pos - shift);
      chunk = readChunk(io, fd, pos, limit, Math.max(size, CHUNK_BYTES), scratch);
      if (chunk === undefined || chunk.bytes.length < size) return { end: pos, failure: { position: pos, reason: 'torn-payload' }, chunk: undefined };
    }
  }
  if (chunk !== undefined) chunk.end = pos;
  return { end: pos, chunk };
}

/**
 * A chunk of up to `size` bytes at `pos`, below `limit`, in a fresh buffer
 * or in `scratch`'s (grown when too small); undefined when not even a
 * record header could be read.
 */
function readChunk(io: FileIO, fd: number, pos: number, limit: number, size: number, scratch?: ChunkScratch): RecordChunk | undefined {
  const want = Math.min(size, limit - pos);
  if (want < RECORD_OVERHEAD) return undefined;
  // not zero-filled (the read fills it; a short read's tail is zeroed below): fresh zeroed pages cost about a third of the read
  let bytes: Uint8Array;
  if (scratch === undefined) bytes = Buffer.allocUnsafeSlow(want);
  else {
    if (scratch.bytes === undefined || scratch.bytes.length < want) scratch.bytes = Buffer.allocUnsafeSlow(Math.max(want, CHUNK_BYTES));
    bytes = scratch.bytes.subarray(0, want);
  }
  const n = readFully(io, fd, bytes, 0, want, pos);
  if (n < want) bytes.fill(0, Math.max(0, n));
  if (n < RECORD_OVERHEAD) return undefined;
  return { bytes: n === want ? bytes : bytes.subarray(0, n), start: pos, end: pos };
}

/** A transient reader's own read buffer (ReadManyOptions.transient): a ChunkScratch no other reader reads into. */
class OwnTransientBuffer {
  readonly scratch = newChunkScratch();
}

/**
 * A read buffer of one's own for transient `readMany` calls: records read
 * into it stay valid until the next call with the same buffer, whatever
 * other readers of the handle do meanwhile (a consumer whose handler
 * awaits holds its batch across other readers' reads).
 */
export function transientReadBuffer(): TransientReadBuffer {
  return new OwnTransientBuffer() as unknown as TransientReadBuffer;
}

/** The scratch of a buffer made by transientReadBuffer(); anything else is refused. */
export function scratchOf(buffer: TransientReadBuffer): ChunkScratch {
  if (!((buffer as unknown) instanceof OwnTransientBuffer)) {
    throw new InvalidArgumentError(`transient must be true, false or a buffer from transientReadBuffer(), not ${typeof buffer === 'object' ? 'another object' : String(buffer)}`);
  }
  return (buffer as unknown as OwnTransientBuffer).scratch;
}
