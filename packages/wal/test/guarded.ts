import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isWalError } from '../src/index.js';
import { budgetedChecksums, noSyncIO, RecordingIO, withChecksums } from './helpers.js';

export const MiB = 1024 * 1024;
/** Each test fails rather than hangs if some path loops (the suite default is 60 s). */
export const LOOP_GUARD = { timeout: 20_000 };
/* ---------------------------------------------------------------------------
 * The harness: every entry point under a recording FileIO and a checksum
 * budget. Only typed WalErrors may escape, no read may use a buffer larger
 * than the file, the number of reads is bounded by the file sizes, and the
 * bytes checksummed are linear in the bytes on disk.
 * ------------------------------------------------------------------------- */

/** Reads one operation may make of one file: a few passes (header, scan, zero check, well-formed count, copy), each in chunks of at least 1 MiB. */
export function readBound(size: number): number {
  return 8 + 6 * Math.ceil(size / MiB);
}

/**
 * Bytes one operation may checksum. A scan checks each byte at most twice
 * (CRC32C, BLAKE3); the search for well-formed records in cut bytes may check
 * a 40-byte record header (plus a short payload) at every position. That is
 * linear with a constant near 40; anything that grows with the square of the
 * cut (a CRC over a long claimed payload at every position) exceeds it.
 */
export function checksumBound(totalBytes: number): number {
  return 64 * totalBytes + MiB;
}

export interface Outcome<T> {
  value?: T;
  error?: unknown;
}

export function guarded<T>(dir: string, what: string, run: (io: RecordingIO) => T): Outcome<T> {
  // durability is not under test here: skip the flushes to keep the suite fast
  const io = new RecordingIO(noSyncIO);
  const sizes = new Map<string, number>();
  let total = 0;
  for (const [name, size] of Object.entries(fileSizes(dir))) {
    sizes.set(join(dir, name), size);
    total += size;
  }
  const budget = budgetedChecksums();
  budget.reset(checksumBound(total));
  const out: Outcome<T> = {};
  try {
    out.value = withChecksums(budget.provider, () => run(io));
  } catch (err) {
    out.error = err;
  }
  expect(budget.exceeded(), `${what}: checksummed ${budget.used()} bytes of a ${total}-byte journal`).toBe(false);
  if (out.error !== undefined) expect(isWalError(out.error), `${what} threw ${String(out.error)}`).toBe(true);
  expect(io.oversizedReads(), `${what}: reads into buffers larger than the file`).toEqual([]);
  for (const [path, count] of io.readsPerFile()) {
    const size = sizes.get(path) ?? statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    expect(count, `${what}: ${count} reads of ${path} (${size} bytes)`).toBeLessThanOrEqual(readBound(size));
  }
  return out;
}

export function fileSizes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.wal'))) out[name] = statSync(join(dir, name)).size;
  return out;
}
