/** Segment header size in bytes (FORMAT.md, "Segment header"). */
export const HEADER_SIZE = 32;
/** Bytes a record takes besides its payload: len u32 + crc32c u32 + blake3 32. */
export const RECORD_OVERHEAD = 40;
/** The only format version this package reads and writes. */
export const FORMAT_VERSION = 2;
/** ASCII `EWAL`. */
export const SEGMENT_MAGIC = Uint8Array.of(0x45, 0x57, 0x41, 0x4c);
/** Default limit for a payload (FORMAT.md "max payload"): 16 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Offsets are JavaScript safe integers. */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
/** The subdirectory recovery copies cut bytes into. */
export const QUARANTINE_DIR = 'quarantine';
