/**
 * The byte layout of a commit record's payload (docs/FORMAT.md, "Commits").
 * One journal record holds one whole commit, so a commit is visible whole
 * or not at all after any crash: the journal's checksums decide.
 */

/** ASCII `ES`: the first two bytes of every store record. */
export const MAGIC_0 = 0x45;
export const MAGIC_1 = 0x53;
export const LAYOUT_VERSION = 1;

export const KIND_COMMIT = 1;
export const KIND_TOMBSTONE = 2;
export type RecordKind = typeof KIND_COMMIT | typeof KIND_TOMBSTONE;

/** Fixed header before the stream name. */
export const COMMIT_HEADER_SIZE = 28;
export const OFF_KIND = 2;
export const OFF_VERSION = 3;
export const OFF_COUNT = 4;
export const OFF_FIRST_POSITION = 8;
export const OFF_TIMESTAMP = 16;
export const OFF_STREAM_LEN = 24;
export const OFF_RESERVED = 26;

/** Per event: id length (u8), type length (u16), data encoding (u8), metadata length (u32), data length (u32). */
export const EVENT_FIXED_SIZE = 1 + 2 + 1 + 4 + 4;

/** Event flags: bit 0, the data is opaque bytes (else JSON text); bit 1, the store generated the id. */
export const EVENT_DATA_BYTES = 0x01;
export const EVENT_ID_GENERATED = 0x02;
export const EVENT_FLAGS_KNOWN = EVENT_DATA_BYTES | EVENT_ID_GENERATED;

export const MAX_ID_BYTES = 255;
export const MAX_TYPE_BYTES = 1024;
export const MAX_EVENTS_PER_COMMIT = 0xffff;

/** Writes a u16, little-endian. */
export function writeU16(buf: Uint8Array, value: number, at: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
}

/** Writes a u32, little-endian. */
export function writeU32(buf: Uint8Array, value: number, at: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
  buf[at + 2] = value >>> 16;
  buf[at + 3] = value >>> 24;
}

/** Reads a little-endian u32. */
export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

/** Writes a safe integer as a little-endian u64 (two u32 halves). */
export function writeU64(buf: Uint8Array, value: number, at: number): void {
  const lo = value >>> 0; // value mod 2^32, for a non-negative safe integer
  const hi = (value - lo) / 0x1_0000_0000;
  buf[at] = lo;
  buf[at + 1] = lo >>> 8;
  buf[at + 2] = lo >>> 16;
  buf[at + 3] = lo >>> 24;
  buf[at + 4] = hi;
  buf[at + 5] = hi >>> 8;
  buf[at + 6] = hi >>> 16;
  buf[at + 7] = hi >>> 24;
}

/** Reads a little-endian u64 that must be a safe integer (undefined when it is not). */
export function readU64(buf: Buffer, at: number): number | undefined {
  const lo = buf.readUInt32LE(at);
  const hi = buf.readUInt32LE(at + 4);
  if (hi >= 0x20_0000) return undefined;
  return hi * 0x1_0000_0000 + lo;
}
