import { blake3 as napiBlake3 } from '@napi-rs/blake-hash';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { hashInto as jitHashInto } from 'blake3-jit';
import { checkRecordChecksums, crc32cJs, encodeRecordInto, fastChecksums, readU32, RECORD_OVERHEAD, referenceChecksums } from '@episteme/wal/internals';
import { randomBytes } from 'node:crypto';
import { nsPerOp, type Batch } from './timing.js';

/**
 * Per-call costs of the checksum candidates, to judge the provider's size
 * cut-offs. Inputs are taken from a pool of distinct, unaligned positions
 * (as records sit in a segment) rather than one buffer hashed again and again.
 */

const POOL_SLOTS = 64;
const MASK = POOL_SLOTS - 1;

export interface MicroOptions {
  rounds: number;
  targetMs: number;
}

/** 64 encoded records of `n`-byte payloads back to back after a 32-byte gap, like a segment. */
function recordPool(n: number): { buf: Uint8Array; pos: Int32Array } {
  const buf = new Uint8Array(32 + POOL_SLOTS * (RECORD_OVERHEAD + n));
  const pos = new Int32Array(POOL_SLOTS);
  const payloads = randomBytes(POOL_SLOTS * n);
  let p = 32;
  for (let i = 0; i < POOL_SLOTS; i++) {
    pos[i] = p;
    p = encodeRecordInto(payloads.subarray(i * n, (i + 1) * n), buf, p);
  }
  return { buf, pos };
}

/**
 * What checking one record costs with each provider, split as
 * checkRecordChecksums does it: the CRC (4-byte length, then digest+payload,
 * chained) and the BLAKE3 of the payload.
 */
export function providerCosts(n: number, o: MicroOptions): Record<'fastCrc' | 'fastBlake3' | 'refCrc' | 'refBlake3', number> {
  const { buf, pos } = recordPool(n);
  const out = new Uint8Array(32);
  const fast = fastChecksums;
  const ref = referenceChecksums;
  const fastCrc: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      s ^= fast.crc32c(buf, p + 8, p + RECORD_OVERHEAD + n, fast.crc32c(buf, p, p + 4, 0));
    }
    return s;
  };
  const fastBlake3: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      fast.blake3Into(buf, p + RECORD_OVERHEAD, p + RECORD_OVERHEAD + n, out, 0);
      s ^= out[0]!;
    }
    return s;
  };
  const refCrc: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      s ^= ref.crc32c(buf, p + 8, p + RECORD_OVERHEAD + n, ref.crc32c(buf, p, p + 4, 0));
    }
    return s;
  };
  const refBlake3: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      ref.blake3Into(buf, p + RECORD_OVERHEAD, p + RECORD_OVERHEAD + n, out, 0);
      s ^= out[0]!;
    }
    return s;
  };
  return nsPerOp({ fastCrc, fastBlake3, refCrc, refBlake3 }, o.rounds, o.targetMs);
}

/** Unaligned start positions into a shared block of random bytes. */
function inputPool(n: number): { pool: Uint8Array; pos: Int32Array } {
  const pool = randomBytes(POOL_SLOTS * (n + 8) + 8);
  const pos = new Int32Array(POOL_SLOTS);
  for (let i = 0; i < POOL_SLOTS; i++) pos[i] = i * (n + 8) + (i % 7) + 1;
  return { pool, pos };
}

/**
 * BLAKE3 of an `n`-byte view: blake3-jit `hashInto` into a reused digest,
 * @napi-rs/blake-hash `blake3` (allocates its result) copied into one, as the
 * provider does, and the provider itself (whichever it picks at this size).
 */
export function blake3Candidates(n: number, o: MicroOptions): Record<'jit' | 'napi' | 'provider', number> {
  const { pool, pos } = inputPool(n);
  const out = new Uint8Array(32);
  const jit: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      jitHashInto(pool.subarray(p, p + n), out);
      s ^= out[0]!;
    }
    return s;
  };
  const napi: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      out.set(napiBlake3(pool.subarray(p, p + n)), 0);
      s ^= out[0]!;
    }
    return s;
  };
  const provider: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      fastChecksums.blake3Into(pool, p, p + n, out, 0);
      s ^= out[0]!;
    }
    return s;
  };
  return nsPerOp({ jit, napi, provider }, o.rounds, o.targetMs);
}

/** CRC32C of an `n`-byte range: the JS slicing-by-8 table, @node-rs/crc32, and the provider. */
export function crcCandidates(n: number, o: MicroOptions): Record<'js' | 'native' | 'provider', number> {
  const { pool, pos } = inputPool(n);
  const js: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      s ^= crc32cJs(pool, p, p + n, 0);
    }
    return s;
  };
  const native: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      s ^= nativeCrc32c(pool.subarray(p, p + n), 0);
    }
    return s;
  };
  const provider: Batch = (iters) => {
    let s = 0;
    for (let i = 0; i < iters; i++) {
      const p = pos[i & MASK]!;
      s ^= fastChecksums.crc32c(pool, p, p + n, 0);
    }
    return s;
  };
  return nsPerOp({ js, native, provider }, o.rounds, o.targetMs);
}

/**
 * Passes over records already in memory (no reads, no scan bookkeeping): the
 * whole check as checkRecordChecksums does it, then CRC and BLAKE3 alone.
 * Measured in the same rounds as verifyJournal, they split its time per record
 * into checksums and the rest. The bytes are the first `chunkBytes` of a
 * segment, gone over `repeat` times: a 4 MiB chunk stays in the CPU caches as
 * verify's 4 MiB read window does, where a pass over a whole 64 MiB segment
 * would measure RAM bandwidth instead. Separate loops for the reason given on
 * Batch. Returns the passes and how many records one pass checks.
 */
export function inMemoryPasses(
  seg: Uint8Array,
  start: number,
  chunkBytes: number,
  repeat: number,
): { records: number; passes: Record<'check' | 'crc' | 'blake3', () => number> } {
  // Only whole records: stop at the last record that ends inside the chunk.
  let end = start;
  let records = 0;
  while (end + RECORD_OVERHEAD <= seg.length) {
    const next = end + RECORD_OVERHEAD + readU32(seg, end);
    if (next > Math.min(seg.length, chunkBytes)) break;
    end = next;
    records++;
  }
  const out = new Uint8Array(32);
  const cs = fastChecksums;
  const passes = {
    check: () => {
      for (let r = 0; r < repeat; r++) {
        for (let p = start; p < end; ) {
          const n = readU32(seg, p);
          if (checkRecordChecksums(seg, p, n) !== null) throw new Error(`in-memory check failed at ${p}`);
          p += RECORD_OVERHEAD + n;
        }
      }
      return records;
    },
    crc: () => {
      let s = 0;
      for (let r = 0; r < repeat; r++) {
        for (let p = start; p < end; ) {
          const n = readU32(seg, p);
          s ^= cs.crc32c(seg, p + 8, p + RECORD_OVERHEAD + n, cs.crc32c(seg, p, p + 4, 0));
          p += RECORD_OVERHEAD + n;
        }
      }
      return s;
    },
    blake3: () => {
      let s = 0;
      for (let r = 0; r < repeat; r++) {
        for (let p = start; p < end; ) {
          const n = readU32(seg, p);
          cs.blake3Into(seg, p + RECORD_OVERHEAD, p + RECORD_OVERHEAD + n, out, 0);
          s ^= out[0]!;
          p += RECORD_OVERHEAD + n;
        }
      }
      return s;
    },
  };
  return { records: records * repeat, passes };
}
