import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRecordInto, encodeSegmentHeader, HEADER_SIZE, RECORD_OVERHEAD, segmentName } from '@episteme/wal/internals';

/**
 * Journal files for benchmarks, written directly in the FORMAT.md layout:
 * records encoded with encodeRecordInto into one segment-sized buffer, then
 * one writeSync per segment. Going through a writer would make generating
 * 256 MiB slow and would tie the read benchmarks to the writer's code.
 */

export const SEGMENT_BYTES = 64 * 1024 * 1024;

export interface GeneratedJournal {
  dir: string;
  /** Segment file paths in log order. */
  files: string[];
  records: number;
  /** Sum of the segment file sizes (headers included). */
  fileBytes: number;
  /** Record bytes (record headers plus payloads), what verifyJournal reports as bytesVerified. */
  recordBytes: number;
  payloadBytes: number;
}

export interface JournalSpec {
  payloadBytes: number;
  /**
   * Payload sizes cycle through payloadBytes .. payloadBytes + sizeSpread - 1
   * (default 1: all equal). A spread of 4 or more puts records at every byte
   * alignment, as varied real payloads do; equal sizes keep one alignment,
   * which favours or penalises some checksum code paths.
   */
  sizeSpread?: number;
  /** Size of the journal: ceil(total / segmentBytes) segments, filled evenly. */
  totalBytes: number;
  segmentBytes?: number;
}

/**
 * Payloads are windows into a block of random bytes at a stride that is not a
 * multiple of 8, so that every record differs and the hashes see no pattern,
 * without paying for fresh random bytes per record.
 */
function payloadSource(maxBytes: number): (i: number, size: number) => Uint8Array {
  const pool = randomBytes(1024 * 1024 + maxBytes);
  const span = pool.length - maxBytes;
  return (i, size) => {
    const at = (i * 7919) % span;
    return pool.subarray(at, at + size);
  };
}

export function generateJournal(dir: string, spec: JournalSpec): GeneratedJournal {
  const segmentBytes = spec.segmentBytes ?? SEGMENT_BYTES;
  const spread = Math.max(1, spec.sizeSpread ?? 1);
  const sizeOf = (i: number): number => spec.payloadBytes + (i % spread);
  const segments = Math.max(1, Math.ceil(spec.totalBytes / segmentBytes));
  const target = Math.min(segmentBytes, Math.ceil(spec.totalBytes / segments));
  if (HEADER_SIZE + RECORD_OVERHEAD + sizeOf(spread - 1) > target) throw new Error(`a ${sizeOf(spread - 1)} B record does not fit a ${target} B segment`);
  const payload = payloadSource(sizeOf(spread - 1));
  // One buffer reused for every segment: writeSync is done with it on return.
  const buf = new Uint8Array(target);
  const files: string[] = [];
  let base = 0;
  let records = 0;
  let fileBytes = 0;
  for (let s = 0; s < segments; s++) {
    buf.set(encodeSegmentHeader(base), 0);
    let pos = HEADER_SIZE;
    while (pos + RECORD_OVERHEAD + sizeOf(records) <= target) {
      pos = encodeRecordInto(payload(records, sizeOf(records)), buf, pos);
      records++;
    }
    const path = join(dir, segmentName(base));
    const fd = openSync(path, 'wx');
    try {
      for (let done = 0; done < pos; ) done += writeSync(fd, buf, done, pos - done, done);
    } finally {
      closeSync(fd);
    }
    files.push(path);
    fileBytes += pos;
    // Contiguity (FORMAT.md): the next base is this base plus the record bytes.
    base += pos - HEADER_SIZE;
  }
  return { dir, files, records, fileBytes, recordBytes: fileBytes - segments * HEADER_SIZE, payloadBytes: spec.payloadBytes };
}

const RAW_CHUNK = 4 * 1024 * 1024;
let rawBuf: Uint8Array | undefined;

/**
 * The floor for any scan of the journal: read every segment sequentially into
 * one reused 4 MiB buffer (the chunk size scanSegment's FileWindow uses) and
 * do nothing with the bytes. Returns the bytes read.
 */
export function readAllRaw(files: readonly string[]): number {
  rawBuf ??= new Uint8Array(RAW_CHUNK);
  let total = 0;
  for (const path of files) {
    const fd = openSync(path, 'r');
    try {
      for (let pos = 0; ; ) {
        const n = readSync(fd, rawBuf, 0, RAW_CHUNK, pos);
        if (n === 0) break;
        pos += n;
        total += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  return total;
}

/** Reads every record of `log` from offset 0 with `readMany` batches of `batch`; returns how many. */
export function countWithReadMany(log: { readMany(offset: number, max: number): readonly { next: number }[] }, batch: number): number {
  let n = 0;
  for (let pos = 0; ; ) {
    const records = log.readMany(pos, batch);
    if (records.length === 0) return n;
    n += records.length;
    pos = records[records.length - 1]!.next;
  }
}
