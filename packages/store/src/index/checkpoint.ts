import { join } from 'node:path';
import type { FileIO } from '@episteme/wal';
import { checksums, readFully, replaceFileAtomically } from '@episteme/wal/internals';
import { IdempotencyWindow } from '../idempotencyWindow.js';
import { readU64, writeU16, writeU32, writeU64 } from '../commit/layout.js';
import { StreamIndex } from './streamIndex.js';

/**
 * The stream index's checkpoint file (docs/FORMAT.md, "Stream index
 * checkpoint"): the index and the idempotency window as they stood at a log
 * position, so that an open replays only the records after it. Written
 * whole through a temporary file and a rename; any doubt about it (missing,
 * damaged, describing another log) means a full rebuild, never a loss.
 */

export const STORE_DIR = 'streams';
export const CHECKPOINT_FILE = 'index.ckpt';
const MAGIC = 0x58495345; // ASCII `ESIX` read as a little-endian u32
const VERSION = 1;
const HEADER = 64;

export function checkpointPath(dir: string): string {
  return join(dir, STORE_DIR, CHECKPOINT_FILE);
}

/**
 * Serialises the index and the window; the last 4 bytes are the CRC32C of
 * all before them. Stream names are ASCII (the allow-list), so a name's
 * length is its size in bytes and `latin1` copies it as it is.
 */
export function encodeCheckpoint(index: StreamIndex, window: IdempotencyWindow): Buffer {
  const bound = HEADER + 4 + window.size * 16 + index.commitTableSize * 16 + index.size * 15 + index.nameChars;
  const buf = Buffer.allocUnsafe(bound);
  buf.fill(0, 0, HEADER);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt16LE(VERSION, 4);
  writeU64(buf, index.head, 8);
  writeU64(buf, Math.max(index.lastRecord, 0), 16);
  if (index.lastDigest) buf.set(index.lastDigest, 24);
  buf.writeUInt32LE(index.size, 56);
  buf.writeUInt32LE(window.size, 60);
  let at = HEADER;
  index.forEachStream((name, version, deleted, last) => {
    writeU16(buf, name.length, at);
    buf.write(name, at + 2, 'latin1');
    at += 2 + name.length;
    buf[at++] = deleted ? 1 : 0;
    writeU64(buf, version, at);
    let count = 0;
    for (let c = last; c !== -1; c = index.commitPrevOf(c)) count++;
    writeU32(buf, count, at + 8);
    at += 12;
    // the chain runs newest first: fill the list from its end
    let p = at + count * 16;
    for (let c = last; c !== -1; c = index.commitPrevOf(c)) {
      p -= 16;
      writeU64(buf, index.commitAtOf(c), p);
      writeU64(buf, index.commitFirstOf(c), p + 8);
    }
    at += count * 16;
  });
  window.forEach((lo, hi, position) => {
    buf.writeUInt32LE(lo, at);
    buf.writeUInt32LE(hi, at + 4);
    writeU64(buf, position, at + 8);
    at += 16;
  });
  buf.writeUInt32LE(checksums().crc32c(buf, 0, at, 0), at);
  return buf.subarray(0, at + 4);
}

/** Thrown inside decoding; the caller turns it into a rebuild. */
class Damaged extends Error {}

function u64(buf: Buffer, at: number): number {
  if (at + 8 > buf.length) throw new Damaged('truncated');
  const v = readU64(buf, at);
  if (v === undefined) throw new Damaged('a u64 beyond 2^53');
  return v;
}

/** Decodes a checkpoint; throws (any error) when it is damaged. */
export function decodeCheckpoint(buf: Buffer, windowCapacity: number): { index: StreamIndex; window: IdempotencyWindow } {
  if (buf.length < HEADER + 4) throw new Damaged('shorter than its header');
  const end = buf.length - 4;
  if (checksums().crc32c(buf, 0, end, 0) !== buf.readUInt32LE(end)) throw new Damaged('checksum mismatch');
  if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt16LE(4) !== VERSION) throw new Damaged('unknown magic or version');
  const index = new StreamIndex();
  index.head = u64(buf, 8);
  const last = u64(buf, 16);
  if (index.head > 0) {
    index.lastRecord = last;
    index.lastDigest = new Uint8Array(buf.subarray(24, 56));
  }
  const streams = buf.readUInt32LE(56);
  const ids = buf.readUInt32LE(60);
  let at = HEADER;
  for (let s = 0; s < streams; s++) {
    if (at + 15 > end) throw new Damaged('truncated stream entry');
    const len = buf.readUInt16LE(at);
    const name = buf.toString('latin1', at + 2, at + 2 + len);
    at += 2 + len;
    const deleted = buf[at++] === 1;
    const version = u64(buf, at);
    const commits = buf.readUInt32LE(at + 8);
    at += 12;
    if (at + commits * 16 > end) throw new Damaged('truncated commit list');
    const slot = index.restoreStream(name, version, deleted);
    for (let i = 0; i < commits; i++, at += 16) index.restoreCommit(slot, u64(buf, at), u64(buf, at + 8));
  }
  if (at + ids * 16 !== end) throw new Damaged('the id entries do not end the file');
  const window = new IdempotencyWindow(windowCapacity);
  for (let i = 0; i < ids; i++, at += 16) window.addHash(buf.readUInt32LE(at), buf.readUInt32LE(at + 4), u64(buf, at + 8));
  return { index, window };
}

/** The checkpoint's bytes, or undefined when there is none. */
export function readCheckpointFile(io: FileIO, dir: string): Buffer | undefined {
  const path = checkpointPath(dir);
  const st = io.stat(path);
  if (st === undefined || !st.isFile) return undefined;
  const fd = io.open(path, 'r');
  try {
    const buf = Buffer.alloc(st.size);
    const n = readFully(io, fd, buf, 0, st.size, 0);
    return n === st.size ? buf : buf.subarray(0, n);
  } finally {
    io.close(fd);
  }
}

export function writeCheckpointFile(io: FileIO, dir: string, bytes: Uint8Array): void {
  replaceFileAtomically(io, checkpointPath(dir), bytes);
}

/** The head a checkpoint covers, or undefined when the bytes are no valid checkpoint (a backup's check: a damaged one is only rebuilt). */
export function checkpointHeadOf(buf: Buffer): number | undefined {
  if (buf.length < HEADER + 4) return undefined;
  const end = buf.length - 4;
  if (checksums().crc32c(buf, 0, end, 0) !== buf.readUInt32LE(end) || buf.readUInt32LE(0) !== MAGIC) return undefined;
  return readU64(buf, 8);
}
