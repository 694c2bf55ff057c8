import { blake3 } from '@noble/hashes/blake3.js';
import type { Checksums } from './index.js';

/**
 * The slow, obviously-correct implementation: a bitwise CRC32C straight from
 * the definition and the audited @noble/hashes BLAKE3. Tests cross-check the
 * fast provider against it; the benchmark shows what it would cost.
 */
function crc32cBitwise(data: Uint8Array, start: number, end: number, previous: number): number {
  let crc = ~previous >>> 0;
  for (let i = start; i < end; i++) {
    crc ^= data[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

export const referenceChecksums: Checksums = {
  name: 'reference (bitwise crc32c, @noble/hashes blake3)',
  crc32c: crc32cBitwise,
  blake3Into(data, start, end, out, outOffset) {
    out.set(blake3(data.subarray(start, end)), outOffset);
  },
};
