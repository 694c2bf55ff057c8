import type { CutReason } from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { checkRecordChecksums, crc32cOfRecords, isAllZero, readU32 } from '../format/record.js';
import { ChecksumOffload } from '../checksum/offload.js';
import { checksums } from '../checksum/index.js';
import type { FileIO } from '../io/fileIO.js';
import { FileWindow } from '../io/fileWindow.js';

/**
 * Called for each valid record. `buf[index..index+40+payloadLength)` holds the
 * record and is only valid during the call. Return false to stop the scan.
 */
export type RecordVisitor = (position: number, payloadLength: number, buf: Uint8Array, index: number) => boolean | void;

export interface ScanOptions {
  maxPayloadBytes: number;
  /** File position to start at (a record boundary); defaults to HEADER_SIZE. */
  start?: number;
  /** Bytes of the file to consider (defaults to its current size). */
  size?: number;
  visit?: RecordVisitor;
  /** Called every few MiB with the file position reached. */
  onProgress?: (position: number) => void;
  /** A window over the same fd to reuse across scans (readers scan in batches). */
  window?: FileWindow;
  /**
   * CRC32C of the file's bytes before `start`. When given, the result
   * carries the CRC32C of the bytes up to `end`, computed from the bytes the
   * scan has in memory anyway: a writer carries it on (its segment's running
   * CRC) instead of reading the segment a second time.
   */
  crcBefore?: number;
  /**
   * With a visitor: false checks each record's CRC32C alone (what a read
   * checks by default); recovery and verification leave it true (CRC32C
   * and BLAKE3).
   */
  fullChecks?: boolean;
  /**
   * CRC-only scans with the native run check: records checked per call (at
   * most RUN_RECORDS). A visitor that takes a few records a scan (a batch
   * of 1) says so, so that no more are checked than it reads.
   */
  checkAhead?: number;
}

export interface ScanResult {
  /** File position where the valid records stop (the file size when clean). */
  end: number;
  records: number;
  /** Bytes of valid records (headers plus payloads). */
  bytes: number;
  /** The first invalid record, when the bytes do not end on a record boundary. */
  failure?: { position: number; reason: CutReason };
  /** Every byte from `end` to the file end is zero: preallocated space, not damage. */
  freeSpace: boolean;
  /** A visitor returned false. */
  stopped: boolean;
  /** CRC32C of the file's bytes up to `end`, when `crcBefore` was given. */
  crc?: number;
  /** File position of the last valid record scanned (it ends at `end`); -1 when none. */
  last: number;
}

const PROGRESS_EVERY = 8 * 1024 * 1024;

/** Records a CRC-only scan checks per native call: a visitor may stop after a few (a batch), and the call's cost is ~0.1 µs. */
const RUN_RECORDS = 64;

/**
 * Walks the records of one segment file from `start`, validating each one
 * (bounds, length limit, CRC32C, BLAKE3; a reader's visit may ask for the
 * CRC32C alone), and stops at the first invalid one.
 * Never modifies the file.
 */
export function scanSegment(io: FileIO, fd: number, options: ScanOptions): ScanResult {
  const size = options.size ?? io.size(fd);
  const max = options.maxPayloadBytes;
  const win = options.window ?? new FileWindow(io, fd, size);
  let pos = options.start ?? HEADER_SIZE;
  let records = 0;
  let bytes = 0;
  let nextProgress = pos + PROGRESS_EVERY;
  let failure: ScanResult['failure'];
  let stopped = false;
  let crc = options.crcBefore;
  let last = -1;

  // without a visitor, runs of records are checked in two halves at once (checksum offload)
  const offload = options.visit ? undefined : ChecksumOffload.get();
  const full = options.visit === undefined || options.fullChecks !== false;
  // CRC-only scans (a reader's): runs of records checked in one native call where it is built. `checked` is the
  // file position up to which the records are whole and their CRC32C matches, in the window's bytes as they were
  // then (`checkedIn`): once the window moves or is read again (a visitor may read the same reader), they are
  // checked again, as bytes past a writer's head may have been rolled back and rewritten meanwhile
  const verifyRun = full ? undefined : checksums().verifyRun;
  const checkAhead = Math.max(1, Math.min(RUN_RECORDS, options.checkAhead ?? RUN_RECORDS));
  let checked = -1;
  let checkedIn = -1; // the window's generation when `checked` was found

  while (pos < size) {
    if (offload) {
      const run = checkRun(win, pos, max, offload);
      if (run.records > 0 || run.failure) {
        if (crc !== undefined) crc = crcOfVerified(win, pos, run.end, crc);
        records += run.records;
        bytes += run.end - pos;
        if (run.records > 0) last = run.last;
        pos = run.end;
        if (run.failure) {
          failure = run.failure;
          break;
        }
        if (options.onProgress && pos >= nextProgress) {
          options.onProgress(pos);
          nextProgress = pos + PROGRESS_EVERY;
        }
        continue;
      }
      // the next record is not wholly in the window: the step below reads it
    }
    if (pos + RECORD_OVERHEAD > size || !win.ensure(pos, RECORD_OVERHEAD)) {
      failure = { position: pos, reason: 'torn-header' };
      break;
    }
    const n = readU32(win.buf, pos - win.start);
    if (n > max) {
      failure = { position: pos, reason: 'length-over-limit' };
      break;
    }
    const total = RECORD_OVERHEAD + n;
    if (pos + total > size || !win.ensure(pos, total)) {
      failure = { position: pos, reason: 'torn-payload' };
      break;
    }
    const index = pos - win.start;
    if (checkedIn !== win.generation) checked = -1;
    if (verifyRun !== undefined && pos + total > checked) {
      const end = Math.min(win.length, size - win.start);
      checked = win.start + verifyRun(win.buf, index, end, end, max, checkAhead);
      checkedIn = win.generation;
    }
    // the record a run stopped at is checked here and classified as before
    const bad = pos + total <= checked ? null : checkRecordChecksums(win.buf, index, n, full);
    if (bad !== null) {
      failure = { position: pos, reason: bad };
      break;
    }
    records++;
    bytes += total;
    if (crc !== undefined) crc = crcOfVerified(win, pos, pos + total, crc);
    last = pos;
    if (options.visit && options.visit(pos, n, win.buf, index) === false) {
      pos += total;
      stopped = true;
      break;
    }
    pos += total;
    if (options.onProgress && pos >= nextProgress) {
      options.onProgress(pos);
      nextProgress = pos + PROGRESS_EVERY;
    }
  }
  const freeSpace = failure !== undefined && rangeIsZero(io, fd, pos, size);
  options.onProgress?.(pos);
  return { end: pos, records, bytes, failure, freeSpace, stopped, crc, last };
}

/**
 * `crc` continued over the file bytes `[from, to)`: whole records, all
 * verified, held in the window. Their stored CRCs are correct, so a large
 * record's is derived without reading its payload again (crc32cOfRecords).
 */
function crcOfVerified(win: FileWindow, from: number, to: number, crc: number): number {
  if (to === from) return crc;
  const i = from - win.start;
  return crc32cOfRecords(win.buf.subarray(i, i + (to - from)), to - from, crc);
}

interface Run {
  /** File position after the last valid record of the run. */
  end: number;
  records: number;
  /** File position of the run's last valid record (with `records` > 0). */
  last: number;
  failure?: { position: number; reason: CutReason };
}

/**
 * Frames the records from `pos` that lie wholly in the window's bytes, then
 * checks their checksums: the first part on this thread, the rest on the
 * offload's worker at the same time. Same verdicts as the record-by-record
 * loop: the first invalid record by position, a length over the limit
 * included. A record that does not fit in the window ends the run without a
 * verdict (the caller reads on).
 */
function checkRun(win: FileWindow, pos: number, max: number, offload: ChecksumOffload): Run {
  const buf = win.buf;
  const base = win.start;
  const winEnd = base + win.length;
  if (pos < base || pos >= winEnd) return { end: pos, records: 0, last: -1 };
  let end = pos;
  let last = -1;
  let records = 0;
  let lengthFailure: Run['failure'];
  while (end + RECORD_OVERHEAD <= winEnd) {
    const n = readU32(buf, end - base);
    if (n > max) {
      lengthFailure = { position: end, reason: 'length-over-limit' };
      break;
    }
    if (end + RECORD_OVERHEAD + n > winEnd) break;
    last = end;
    end += RECORD_OVERHEAD + n;
    records++;
  }
  // the worker takes the second part (its share), from a record boundary, within its buffer
  let split = end;
  if (offload.usable(end - pos)) {
    const mainPart = pos + Math.floor((end - pos) * (1 - offload.share));
    for (split = pos; split < mainPart || end - split > offload.capacity; ) split += RECORD_OVERHEAD + readU32(buf, split - base);
    if (split < end) offload.start(buf, split - base, end - base);
    else split = end;
  }
  let bad = checkRange(buf, base, pos, split);
  if (split < end) {
    const verdict = offload.finish();
    if (bad === undefined) {
      if (verdict === 'unchecked') bad = checkRange(buf, base, split, end);
      else if (verdict !== null) bad = { position: split + verdict.position, reason: verdict.reason };
    }
  }
  if (bad) return { ...recordsBefore(buf, base, pos, bad.position), end: bad.position, failure: bad };
  return { end, records, last, failure: lengthFailure };
}

/** The first record in `[from, to)` (framed already) whose checksums fail. */
function checkRange(buf: Uint8Array, base: number, from: number, to: number): Run['failure'] {
  for (let p = from; p < to; ) {
    const n = readU32(buf, p - base);
    const reason = checkRecordChecksums(buf, p - base, n);
    if (reason !== null) return { position: p, reason };
    p += RECORD_OVERHEAD + n;
  }
  return undefined;
}

/** How many records `[from, to)` holds (framed already), and where the last one starts. */
function recordsBefore(buf: Uint8Array, base: number, from: number, to: number): { records: number; last: number } {
  let records = 0;
  let last = -1;
  for (let p = from; p < to; records++) {
    last = p;
    p += RECORD_OVERHEAD + readU32(buf, p - base);
  }
  return { records, last };
}

/** True when every byte of the file from `from` to `to` is zero. */
export function rangeIsZero(io: FileIO, fd: number, from: number, to: number): boolean {
  const win = new FileWindow(io, fd, to, 1024 * 1024);
  for (let pos = from; pos < to; ) {
    const len = Math.min(1024 * 1024, to - pos);
    if (!win.ensure(pos, len)) return false;
    const base = pos - win.start;
    if (!isAllZero(win.buf, base, base + len)) return false;
    pos += len;
  }
  return true;
}

/**
 * Counts the well-formed records inside cut bytes `[from, to)`: walks record to
 * record and, where a record is invalid, slides one byte and tries again. A
 * non-zero count after a cut points at media corruption (valid data after the
 * damage), not at a torn write (which damages the end), unless the records
 * after the damage were never synced: the kernel and the disk may persist
 * unsynced pages out of order.
 */
export function countWellFormed(
  io: FileIO,
  fd: number,
  from: number,
  to: number,
  maxPayloadBytes: number,
  startsAtDamage: boolean,
): number {
  const win = new FileWindow(io, fd, to);
  let count = 0;
  let pos = from;
  // Sliding byte by byte, every position with a plausible length costs a
  // checksum over that length: quadratic on a cut full of small integers.
  // Bound the work to a multiple of the cut; the count is then a lower bound,
  // which is all a "media corruption or torn write" verdict needs.
  // Most of that work is avoided without losing real records: see
  // digestIsImplausible. The budget stays as the bound for what it misses.
  let budget = 16 * (to - from) + 64 * 1024;
  // When the cut starts at the invalid record itself, do not count it.
  let first = startsAtDamage;
  while (pos + RECORD_OVERHEAD <= to) {
    if (!win.ensure(pos, RECORD_OVERHEAD)) break;
    const i = pos - win.start;
    const n = readU32(win.buf, i);
    // A zero length with a zero CRC is free space or zero fill: never a record.
    const plausible =
      !first &&
      n <= maxPayloadBytes &&
      pos + RECORD_OVERHEAD + n <= to &&
      !(n === 0 && readU32(win.buf, i + 4) === 0) &&
      !digestIsImplausible(win.buf, i + 8);
    if (plausible && (budget -= RECORD_OVERHEAD + n) < 0) break;
    if (plausible && win.ensure(pos, RECORD_OVERHEAD + n) && checkRecordChecksums(win.buf, pos - win.start, n) === null) {
      count++;
      pos += RECORD_OVERHEAD + n;
    } else {
      pos++;
    }
    first = false;
  }
  return count;
}

const byteCounts = new Uint8Array(256);

/**
 * True when the 32 bytes where a record keeps its BLAKE3 digest repeat one
 * value 8 times or more. A real digest is uniform: that happens to one in
 * about 7·10^9 of them. Structured payloads (arrays of small integers, zero
 * or 0xFF runs) do it at nearly every position, and each such position has
 * a plausible length that would otherwise cost a checksum over it: this
 * keeps the count exact on them while its work stays linear.
 */
function digestIsImplausible(buf: Uint8Array, at: number): boolean {
  let implausible = false;
  for (let k = 0; k < 32; k++) if (++byteCounts[buf[at + k]!]! >= 8) implausible = true;
  for (let k = 0; k < 32; k++) byteCounts[buf[at + k]!] = 0;
  return implausible;
}
