import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { blake3 as napiBlake3 } from '@napi-rs/blake-hash';
import { hashInto as jitHashInto } from 'blake3-jit';
import { crc32cJs } from './crc32cTable.js';

/**
 * The two checksums of the format behind one small interface, so that an
 * implementation can be swapped after measuring (bench/) and so that tests
 * can cross-check every digest against the audited reference (@noble/hashes).
 */
export interface Checksums {
  readonly name: string;
  /** CRC32C of `data[start..end)`, continuing from a finalized `previous` CRC (0 = fresh). */
  crc32c(data: Uint8Array, start: number, end: number, previous: number): number;
  /** BLAKE3-256 of `data[start..end)` written into `out[outOffset..outOffset+32)`. */
  blake3Into(data: Uint8Array, start: number, end: number, out: Uint8Array, outOffset: number): void;
}

/**
 * Size cut-offs, measured end to end by `npm run bench -- --only verify`
 * (the "cut-offs end to end" table): the JS CRC table beats the native call
 * up to ~190 B of input; blake3-jit beats the native BLAKE3 up to 1 KiB and
 * loses above it on payloads of mixed sizes and alignments (1.2-1.45x at
 * 1.5 KiB), where the native call's fixed cost no longer dominates.
 */
export const CRC_NATIVE_FROM = 192;
export const BLAKE3_NATIVE_FROM = 1025;

export const fastChecksums: Checksums = {
  name: 'fast (crc: js table < 192 B, @node-rs/crc32 above; blake3: blake3-jit up to 1 KiB, @napi-rs/blake-hash above)',
  crc32c(data, start, end, previous) {
    if (end - start < CRC_NATIVE_FROM) return crc32cJs(data, start, end, previous);
    return nativeCrc32c(data.subarray(start, end), previous);
  },
  blake3Into(data, start, end, out, outOffset) {
    const view = data.subarray(start, end);
    if (end - start < BLAKE3_NATIVE_FROM) {
      jitHashInto(view, outOffset === 0 && out.length === 32 ? out : out.subarray(outOffset, outOffset + 32));
    } else {
      out.set(napiBlake3(view), outOffset);
    }
  },
};

let active: Checksums = fastChecksums;

/** The implementation the format functions use. */
export function checksums(): Checksums {
  return active;
}

/**
 * Replace the implementation (benchmarks compare candidates; tests run the
 * format against the reference). Returns the previous one.
 */
export function setChecksums(impl: Checksums): Checksums {
  const prev = active;
  active = impl;
  return prev;
}

export { crc32cJs };
