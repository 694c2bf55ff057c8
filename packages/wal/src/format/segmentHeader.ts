import { checksums } from '../checksum/index.js';
import { FORMAT_VERSION, HEADER_SIZE, SEGMENT_MAGIC } from './constants.js';

/*
 * Segment header, 32 bytes, little-endian:
 *   0  magic "EWAL" | 4 version u16 = 2 | 6 flags u16 = 0 | 8 base_offset u64
 *   16 reserved (12 zero bytes)        | 28 header_crc u32 = CRC32C(bytes 0..27)
 */

export function encodeSegmentHeader(baseOffset: number): Uint8Array {
  const buf = new Uint8Array(HEADER_SIZE);
  const view = new DataView(buf.buffer);
  buf.set(SEGMENT_MAGIC, 0);
  view.setUint16(4, FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setBigUint64(8, BigInt(baseOffset), true);
  view.setUint32(28, checksums().crc32c(buf, 0, 28, 0), true);
  return buf;
}

export type SegmentHeaderResult =
  | { ok: true; baseOffset: number }
  | { ok: false; problem: string };

/**
 * Validates a header against FORMAT.md. `expectedBase` is the base offset the
 * file name encodes; a mismatch is a header problem.
 */
export function decodeSegmentHeader(bytes: Uint8Array, expectedBase?: number): SegmentHeaderResult {
  if (bytes.length < HEADER_SIZE) {
    return { ok: false, problem: `shorter than the ${HEADER_SIZE}-byte header (${bytes.length} bytes)` };
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== SEGMENT_MAGIC[i]) return { ok: false, problem: 'bad magic (expected "EWAL")' };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const storedCrc = view.getUint32(28, true);
  const crc = checksums().crc32c(bytes, 0, 28, 0);
  if (crc !== storedCrc) {
    return { ok: false, problem: `header CRC mismatch (stored ${hex8(storedCrc)}, computed ${hex8(crc)})` };
  }
  const version = view.getUint16(4, true);
  if (version !== FORMAT_VERSION) return { ok: false, problem: `unsupported version ${version}` };
  const flags = view.getUint16(6, true);
  if (flags !== 0) return { ok: false, problem: `unknown flags 0x${flags.toString(16)}` };
  for (let i = 16; i < 28; i++) {
    if (bytes[i] !== 0) return { ok: false, problem: 'reserved bytes are not zero' };
  }
  const base = view.getBigUint64(8, true);
  if (base > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { ok: false, problem: `base offset ${base} is beyond 2^53` };
  }
  const baseOffset = Number(base);
  if (expectedBase !== undefined && baseOffset !== expectedBase) {
    return { ok: false, problem: `base offset ${baseOffset} does not match the file name (${expectedBase})` };
  }
  return { ok: true, baseOffset };
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
