import { createHash } from 'node:crypto';
import { closeSync, cpSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, expect, type TestContext } from 'vitest';
import { ChecksumOffload } from '../src/checksum/offload.js';
import type { LogReader } from '../src/index.js';
import { encodeRecord, encodeSegmentHeader, HEADER_SIZE, segmentName } from '../src/internals.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures', 'vectors');

const made: string[] = [];
afterEach(() => {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(prefix = 'episteme-wal-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A writable copy of a golden vector directory. */
export function copyVector(name: string): string {
  const dir = join(tempDir(), name);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** Every file below `dir` with the SHA-256 of its bytes (a symbolic link: its target, not followed): equal maps mean nothing changed. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        out[relative(dir, p)] = `-> ${readlinkSync(p)}`;
      } else if (st.isDirectory()) {
        out[relative(dir, p) + '/'] = 'dir';
        walk(p);
      } else {
        out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * Writes a journal directly from payloads, one array per segment, as an
 * independent writer would: bases follow from the record sizes.
 */
export function writeJournal(dir: string, segments: Uint8Array[][], firstBase = 0): { offsets: number[]; head: number; names: string[] } {
  let base = firstBase;
  const offsets: number[] = [];
  const names: string[] = [];
  for (const payloads of segments) {
    const parts: Uint8Array[] = [encodeSegmentHeader(base)];
    let offset = base;
    for (const p of payloads) {
      offsets.push(offset);
      const rec = encodeRecord(p);
      parts.push(rec);
      offset += rec.length;
    }
    const name = segmentName(base);
    writeFileSync(join(dir, name), Buffer.concat(parts));
    names.push(name);
    base = offset;
  }
  return { offsets, head: base, names };
}

export function payloadOf(i: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let k = 0; k < size; k++) p[k] = (i * 31 + k * 7) & 0xff;
  return p;
}

export { HEADER_SIZE };

/* ------------------------------------------------------------------------
 * Added for the property, bad-input and recovery suites
 * (*.prop.spec.ts, badInput.int.spec.ts, recovery.int.spec.ts).
 * ---------------------------------------------------------------------- */

import { existsSync } from 'node:fs';
import { nodeFileIO, setChecksumOffload, type FileIO } from '../src/index.js';
import { fastChecksums, QUARANTINE_DIR, RECORD_OVERHEAD, referenceChecksums, scanSegment, setChecksums, type Checksums } from '../src/internals.js';

/** `<segment base hex16>.<file position hex16>.<unix ms>.bin` (FORMAT.md, Recovery). */
export const QUARANTINE_FILE_NAME = /^([0-9a-f]{16})\.([0-9a-f]{16})\.(\d+)\.bin$/;

export interface LaidOutRecord {
  segment: number;
  name: string;
  /** File position of the record inside its segment. */
  position: number;
  /** Global offset. */
  offset: number;
  payload: Uint8Array;
  /** Record size on disk (RECORD_OVERHEAD + payload length). */
  size: number;
}

/**
 * Where writeJournal puts every record, computed independently of the code
 * under test from FORMAT.md: position = HEADER_SIZE + (offset - base).
 */
export function layoutOf(segments: Uint8Array[][], firstBase = 0): { records: LaidOutRecord[]; names: string[]; bases: number[]; sizes: number[]; head: number } {
  const records: LaidOutRecord[] = [];
  const names: string[] = [];
  const bases: number[] = [];
  const sizes: number[] = [];
  let base = firstBase;
  segments.forEach((payloads, s) => {
    const name = segmentName(base);
    names.push(name);
    bases.push(base);
    let pos = HEADER_SIZE;
    for (const payload of payloads) {
      const size = RECORD_OVERHEAD + payload.length;
      records.push({ segment: s, name, position: pos, offset: base + pos - HEADER_SIZE, payload, size });
      pos += size;
    }
    sizes.push(pos);
    base += pos - HEADER_SIZE;
  });
  return { records, names, bases, sizes, head: base };
}

/** Every valid record of every segment file of `dir`, in log order (stops each segment at its first invalid record). */
export function readLog(dir: string, maxPayloadBytes = 16 << 20): Array<{ segment: string; offset: number; payload: Uint8Array }> {
  const out: Array<{ segment: string; offset: number; payload: Uint8Array }> = [];
  const names = readdirSync(dir).filter((n) => /^[0-9a-f]{16}\.wal$/.test(n)).sort();
  for (const name of names) {
    const base = Number.parseInt(name.slice(0, 16), 16);
    const fd = nodeFileIO.open(join(dir, name), 'r');
    try {
      scanSegment(nodeFileIO, fd, {
        maxPayloadBytes,
        visit: (pos, n, buf, i) => {
          out.push({ segment: name, offset: base + pos - HEADER_SIZE, payload: buf.slice(i + RECORD_OVERHEAD, i + RECORD_OVERHEAD + n) });
        },
      });
    } finally {
      nodeFileIO.close(fd);
    }
  }
  return out;
}

/** The files of `dir/quarantine` (name → bytes); empty when the directory does not exist. */
export function quarantineFiles(dir: string): Map<string, Buffer> {
  const q = join(dir, QUARANTINE_DIR);
  const out = new Map<string, Buffer>();
  if (!existsSync(q)) return out;
  for (const name of readdirSync(q).sort()) out.set(name, readFileSync(join(q, name)));
  return out;
}

/**
 * True when a quarantine copy holds the cut bytes: exactly them, or (FORMAT.md,
 * Preallocated space) them without zero bytes at the very end of the cut.
 */
export function holdsCut(copy: Uint8Array, cut: Uint8Array): boolean {
  if (copy.length > cut.length) return false;
  if (!Buffer.from(copy).equals(Buffer.from(cut.subarray(0, copy.length)))) return false;
  for (let i = copy.length; i < cut.length; i++) if (cut[i] !== 0) return false;
  return true;
}

/**
 * Expects `actual` to hold exactly `expected`'s bytes. A file of megabytes
 * compared with toEqual takes seconds (an element at a time, with its diff
 * machinery); this compares natively and names the first difference.
 */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what?: string): void {
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)) return;
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  expect.unreachable(`${what === undefined ? '' : `${what}: `}${actual.length} bytes where ${expected.length} were expected, the first difference at byte ${at}`);
}

export function isZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

/** Flips one bit of a file in place. */
/** Flips bit `bit` of byte `position` of `path` in place: a journal's open descriptors see it, as they would see media damage. */
export function flipBitInPlace(path: string, position: number, bit: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, position);
    b[0]! ^= 1 << bit;
    writeSync(fd, b, 0, 1, position);
  } finally {
    closeSync(fd);
  }
}

/** The offsets `log.readFrom(from)` hands out before it throws, and what it throws (undefined when it ends cleanly). */
export async function readFromCollecting(log: Pick<LogReader, 'readFrom'>, from = 0): Promise<{ offsets: number[]; error: unknown }> {
  const offsets: number[] = [];
  try {
    for await (const r of log.readFrom(from)) offsets.push(r.offset);
  } catch (error) {
    return { offsets, error };
  }
  return { offsets, error: undefined };
}

export function flipBit(path: string, byte: number, bit: number): void {
  const bytes = readFileSync(path);
  bytes[byte]! ^= 1 << bit;
  writeFileSync(path, bytes);
}

/** Runs `fn` and returns what it threw (undefined when it returned). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

export interface ReadCall {
  path: string;
  /** Size of the file when it was opened. */
  fileSize: number;
  bufLength: number;
  length: number;
  position: number;
}

export type FaultOp = 'open' | 'read' | 'write' | 'fsync' | 'truncate' | 'rename' | 'mkdir' | 'syncDir';

/**
 * A FileIO around nodeFileIO that records every read (the buffer it reads
 * into tells how much the caller allocated), every rename and truncate, and
 * can fail the Nth call (N from 1) of an operation with EIO, to simulate a
 * crash or a failing disk in the middle of a recovery. Optionally `failWhen`
 * picks which calls count (e.g. only opens of segment files).
 */
export class RecordingIO implements FileIO {
  readonly reads: ReadCall[] = [];
  readonly renames: Array<[string, string]> = [];
  readonly truncates: Array<[string, number]> = [];
  readonly calls: Record<FaultOp, number> = { open: 0, read: 0, write: 0, fsync: 0, truncate: 0, rename: 0, mkdir: 0, syncDir: 0 };
  /** Set when an injected fault fired. */
  faulted = false;
  private readonly files = new Map<number, { path: string; size: number }>();

  constructor(
    private readonly inner: FileIO = nodeFileIO,
    private readonly faults: Partial<Record<FaultOp, number>> = {},
    private readonly failWhen: (op: FaultOp, path: string, flags?: string) => boolean = () => true,
  ) {}

  private step(op: FaultOp, path: string, flags?: string): void {
    if (!this.failWhen(op, path, flags)) return;
    this.calls[op]++;
    if (this.calls[op] === this.faults[op]) {
      this.faulted = true;
      throw Object.assign(new Error(`injected EIO on ${op} #${this.calls[op]} (${path})`), { code: 'EIO' });
    }
  }
  private pathOf(fd: number): string {
    return this.files.get(fd)?.path ?? '?';
  }

  open(path: string, flags: string): number {
    this.step('open', path, flags);
    const fd = this.inner.open(path, flags);
    this.files.set(fd, { path, size: this.inner.size(fd) });
    return fd;
  }
  close(fd: number): void {
    this.files.delete(fd);
    this.inner.close(fd);
  }
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.files.get(fd);
    this.reads.push({ path: f?.path ?? '?', fileSize: f?.size ?? -1, bufLength: buf.length, length, position });
    this.step('read', this.pathOf(fd));
    return this.inner.read(fd, buf, offset, length, position);
  }
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    this.step('write', this.pathOf(fd));
    return this.inner.write(fd, buf, offset, length, position);
  }
  fsync(fd: number): void {
    this.step('fsync', this.pathOf(fd));
    this.inner.fsync(fd);
  }
  fsyncAsync(fd: number): Promise<void> {
    return this.inner.fsyncAsync(fd);
  }
  truncate(fd: number, length: number): void {
    this.step('truncate', this.pathOf(fd));
    this.truncates.push([this.pathOf(fd), length]);
    this.inner.truncate(fd, length);
  }
  size(fd: number): number {
    return this.inner.size(fd);
  }
  readdir(dir: string): string[] {
    return this.inner.readdir(dir);
  }
  mkdir(dir: string): boolean {
    this.step('mkdir', dir);
    return this.inner.mkdir(dir);
  }
  rename(from: string, to: string): void {
    this.step('rename', from);
    this.renames.push([from, to]);
    this.inner.rename(from, to);
  }
  unlink(path: string): void {
    this.inner.unlink(path);
  }
  syncDir(dir: string): void {
    this.step('syncDir', dir);
    this.inner.syncDir(dir);
  }
  stat(path: string): { isFile: boolean; isDirectory: boolean; size: number } | undefined {
    return this.inner.stat(path);
  }
  readlink(path: string): string | undefined {
    return this.inner.readlink?.(path);
  }

  /**
   * Reads into a buffer larger than the file read from. The only fixed-size
   * buffer allowed to exceed a tiny file is the 32-byte segment header
   * (read at position 0, continued where a short read stopped).
   */
  oversizedReads(): ReadCall[] {
    return this.reads.filter(
      (r) => r.bufLength > Math.max(r.fileSize, 1) && !(r.bufLength === HEADER_SIZE && r.position + r.length === HEADER_SIZE),
    );
  }

  /** Read calls per file path. */
  readsPerFile(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.reads) out.set(r.path, (out.get(r.path) ?? 0) + 1);
    return out;
  }
}

/**
 * A checksum provider that counts the bytes it checksums and throws once a
 * budget is spent: proves that work stays linear in the bytes on disk, and
 * fails fast instead of hanging when it does not.
 */
export function budgetedChecksums(inner: Checksums = fastChecksums): { provider: Checksums; used: () => number; exceeded: () => boolean; reset: (budget: number) => void } {
  let used = 0;
  let budget = Infinity;
  let exceeded = false;
  const spend = (n: number): void => {
    used += n;
    if (used > budget) {
      exceeded = true;
      throw new Error(`checksum budget exceeded: ${used} bytes checksummed, budget ${budget}`);
    }
  };
  return {
    provider: {
      name: `budgeted ${inner.name}`,
      crc32c(data, start, end, previous) {
        spend(end - start);
        return inner.crc32c(data, start, end, previous);
      },
      blake3Into(data, start, end, out, outOffset) {
        spend(end - start);
        inner.blake3Into(data, start, end, out, outOffset);
      },
    },
    used: () => used,
    exceeded: () => exceeded,
    reset: (b) => {
      used = 0;
      budget = b;
      exceeded = false;
    },
  };
}

/**
 * A checksum provider that computes every CRC32C and BLAKE3 with `fast` and
 * with the reference (@noble/hashes, bitwise CRC) and records any difference.
 * The fast result is what the code under test gets.
 */
export function crossChecked(fast: Checksums = fastChecksums): { provider: Checksums; mismatches: string[]; counts: { crc: number; blake3: number } } {
  const mismatches: string[] = [];
  const counts = { crc: 0, blake3: 0 };
  const ref = new Uint8Array(32);
  const provider: Checksums = {
    name: `cross-checked ${fast.name}`,
    crc32c(data, start, end, previous) {
      counts.crc++;
      const a = fast.crc32c(data, start, end, previous);
      const b = referenceChecksums.crc32c(data, start, end, previous);
      if (a !== b) mismatches.push(`crc32c of ${end - start} bytes (previous ${previous}): fast ${a}, reference ${b}`);
      return a;
    },
    blake3Into(data, start, end, out, outOffset) {
      counts.blake3++;
      fast.blake3Into(data, start, end, out, outOffset);
      referenceChecksums.blake3Into(data, start, end, ref, 0);
      const got = Buffer.from(out.subarray(outOffset, outOffset + 32));
      if (!got.equals(Buffer.from(ref))) mismatches.push(`blake3 of ${end - start} bytes: fast ${got.toString('hex')}, reference ${Buffer.from(ref).toString('hex')}`);
    },
  };
  return { provider, mismatches, counts };
}

/** Runs `fn` with every checksum on the main thread (no checksum offload, no read-ahead). */
export function withoutChecksumOffload<T>(fn: () => T): T {
  const prev = setChecksumOffload(false);
  try {
    return fn();
  } finally {
    setChecksumOffload(prev);
  }
}

/** Runs `fn` with `impl` as the checksum provider, restoring the previous one afterwards. */
export function withChecksums<T>(impl: Checksums, fn: () => T): T {
  const prev = setChecksums(impl);
  try {
    return fn();
  } finally {
    setChecksums(prev);
  }
}

/**
 * nodeFileIO without fsync/directory sync: for exhaustive suites that run
 * thousands of recoveries and check what ends up in the files, not durability
 * (the order of the steps is the same; only the flushes are skipped).
 */
export const noSyncIO: FileIO = { ...nodeFileIO, fsync: () => {}, fsyncAsync: async () => {}, syncDir: () => {} };

/** Runs `open` with the bytes hashed by CRC32C counted (a reader's open: what it checked record by record, or not). */
export async function countingCrcBytes<T>(open: () => Promise<T>): Promise<{ value: T; hashed: number }> {
  let hashed = 0;
  const counting: Checksums = {
    name: `crc-counted ${fastChecksums.name}`,
    crc32c(data, start, end, previous) {
      hashed += end - start;
      return fastChecksums.crc32c(data, start, end, previous);
    },
    blake3Into: (data, start, end, out, outOffset) => fastChecksums.blake3Into(data, start, end, out, outOffset),
  };
  const prev = setChecksums(counting);
  try {
    const value = await open();
    return { value, hashed };
  } finally {
    setChecksums(prev);
  }
}

/**
 * The checksum worker, started and ready, for a test of what it does.
 * Where the offload is on by default (more than one CPU, and
 * EPISTEME_CHECKSUM_THREADS not 0) a worker that is missing or does not
 * start fails the test: returning quietly would pass it having checked
 * nothing (as when the worker's file cannot be found). Where the offload is
 * off, the test is skipped, and the report says so.
 */
export function readyOffload(ctx: TestContext): ChecksumOffload {
  const env = process.env.EPISTEME_CHECKSUM_THREADS;
  const onHere = env !== undefined ? env !== '0' : availableParallelism() > 1;
  if (!onHere) ctx.skip('the checksum offload is off here (one CPU or EPISTEME_CHECKSUM_THREADS=0)');
  const offload = ChecksumOffload.get();
  if (offload === undefined) throw new Error('the checksum offload is on here, but ChecksumOffload.get() gave none');
  if (!offload.waitReady(20_000)) throw new Error('the checksum worker did not start within 20 s');
  return offload;
}
