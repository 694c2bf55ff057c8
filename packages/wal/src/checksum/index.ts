import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { blake3 as napiBlake3 } from '@napi-rs/blake-hash';
import { hashInto as jitHashInto } from 'blake3-jit';
import { crc32cJs } from './crc32cTable.js';
import { nativeRecordRun, type FillRecordCrcs, type VerifyRun } from './recordRun.js';

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
  /**
   * The CRC32C check of a run of records in one call (recordRun.ts), where
   * the implementation has one; without it readers check each record with
   * `crc32c`. Both must agree on every input (test/recordRun.prop.spec.ts).
   */
  readonly verifyRun?: VerifyRun;
  /** The CRC32C of a run of records an append just encoded, written in one call (recordRun.ts), where the implementation has one. */
  readonly fillRecordCrcs?: FillRecordCrcs;
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

/** The fast checksums without the native run check: what every machine has (and what tests compare the native check with). */
export const portableChecksums: Checksums = {
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

/** The fast checksums, with the native run check where it is built (`nativeRecordRun.why` says whether). */
export const fastChecksums: Checksums =
  nativeRecordRun.verifyRun === undefined
    ? portableChecksums
    : {
        name: `${portableChecksums.name}; runs of records: native (native/recordRun.c)`,
        crc32c: portableChecksums.crc32c,
        blake3Into: portableChecksums.blake3Into,
        verifyRun: nativeRecordRun.verifyRun,
        fillRecordCrcs: nativeRecordRun.fillRecordCrcs,
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

export { crc32cJs, nativeRecordRun, type FillRecordCrcs, type VerifyRun };
