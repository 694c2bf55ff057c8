import { join } from 'node:path';
import { checksums } from '../checksum/index.js';
import { replaceFileAtomically } from '../io/atomicFile.js';
import { unlinkQuietly } from '../io/closers.js';
import { ioError } from '../errors.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { openEnvelope, sealEnvelope, type EnvelopeLayout } from '../shared/checksummedFile.js';

export const RECOVERY_POINT_FILE = 'RECOVERY_POINT';

/** `<crc32c hex>\n<json>`: no magic and no length; the JSON names its `format`. */
const ENVELOPE: EnvelopeLayout = { length: false, kind: 'recovery point' };

/**
 * The sealed segments whose every record is known good: verified by an
 * earlier recovery, or sealed (written, synced, trimmed) by the writer. Kept
 * as base offset -> file size, so that a segment changed since (a repair, a
 * file replaced by hand) is no longer trusted. A writer's open skips the
 * record scan of trusted segments (Kafka's recovery point): open time then
 * depends on the last segment, not on the whole log. Headers and contiguity
 * are still checked, every read verifies its record, and `verifyJournal`
 * checks everything.
 */
export type TrustedSegments = ReadonlyMap<number, number>;

/**
 * The last segment as a writer closed it cleanly: synced, trimmed to its last
 * record, this size and this CRC32C of the whole file. The next writer's open
 * skips the record scan when the size matches, as Kafka skips log recovery
 * after a clean shutdown, and checks the CRC (one pass of native CRC32C over
 * the file, about 22 ms for 61 MiB here, against 130-280 ms for the record
 * scan with its BLAKE3 per record) in the background, before its first write
 * (journal/tailCheck.ts); `recoverJournal` without `deferClosedCrc` checks it
 * at once. A file changed since (a bit flip, a hand edit) fails the CRC: the
 * writer writes nothing and the reopen scans and cuts it, so appends never
 * land after undetected damage. The writer withdraws the mark before it
 * writes anything, so that after a crash the segment is scanned again (past
 * its synced prefix).
 */
export interface CleanClose {
  base: number;
  size: number;
  crc: number;
  /**
   * The last record of those bytes (it ends at `size`): its file position
   * and its stored CRC32C field. A reader checks that record alone instead
   * of the CRC32C of every byte before it (journal/vouchedPrefix.ts).
   * Absent in points written before 2026-12-07 (and for a segment whose last
   * record its writer did not know): readers then hash the whole prefix.
   */
  last?: LastRecord;
}

/** A record named by a mark: where it starts in its segment file, and the CRC32C stored in its header. */
export interface LastRecord {
  position: number;
  crc: number;
}

/**
 * A prefix of the last segment as its writer synced it: the first `size`
 * bytes (header and whole records, every one of them valid) had this CRC32C.
 * The writer records one when it opens and then after every few MiB of
 * synced records; the next open after a crash checks the prefix's CRC (native
 * CRC32C, a small part of the record scan's cost) and scans only the records
 * after it, as Kafka recovers only the log after its recovery point. Unlike
 * the clean-close mark it needs no withdrawal: records are only ever added
 * after a synced prefix (a failed write is rolled back to the head, which is
 * at or past it). A prefix changed since (a bit flip, a hand edit, a recovery
 * cut below it) fails the CRC, and the whole segment is scanned.
 */
export type SyncedPrefix = CleanClose;

const CRC_CHUNK = 4 * 1024 * 1024;

/** CRC32C of a file's first `size` bytes (the clean-close check of a segment). */
export function fileCrc32c(io: FileIO, fd: number, size: number): number {
  return fileCrc32cOfRange(io, fd, 0, size, 0);
}

/** CRC32C of a file's bytes `from..to`, continuing `previous` (the CRC of the bytes before `from`). */
export function fileCrc32cOfRange(io: FileIO, fd: number, from: number, to: number, previous: number): number {
  const buf = new Uint8Array(Math.min(CRC_CHUNK, Math.max(to - from, 1)));
  let crc = previous;
  for (let pos = from; pos < to; ) {
    const n = readFully(io, fd, buf, 0, Math.min(buf.length, to - pos), pos);
    if (n === 0) throw new Error(`file ended at ${pos} of ${to} bytes`);
    crc = checksums().crc32c(buf, 0, n, crc);
    pos += n;
  }
  return crc;
}

export interface RecoveryPoint {
  /** Sealed segments (base -> size) known good. */
  sealed: TrustedSegments;
  /** The clean-close mark of the last segment, when usable. */
  closed: CleanClose | undefined;
  /** The file holds a clean-close mark, usable or not: a writer must withdraw it before writing. */
  marked: boolean;
  /** The synced prefix of the last segment, when usable. */
  prefix: SyncedPrefix | undefined;
  /**
   * The file holds a synced prefix, usable or not. With `marked`: the point
   * vouches for bytes of a last segment, which a writer must take back
   * before it writes (withdrawMarks): a recovery may have cut below them.
   */
  prefixed: boolean;
}

const NOTHING: RecoveryPoint = { sealed: new Map(), closed: undefined, marked: false, prefix: undefined, prefixed: false };

/**
 * The trusted segments, or none when the file is missing or damaged, or was
 * written under a larger maxPayloadBytes (its segments may hold records this
 * limit refuses: they must be scanned so that open says so).
 */
export function readRecoveryPoint(io: FileIO, dir: string, maxPayloadBytes: number): TrustedSegments {
  return loadRecoveryPoint(io, dir, maxPayloadBytes).sealed;
}

/** The whole recovery point: trusted sealed segments and the clean-close mark. */
export function loadRecoveryPoint(io: FileIO, dir: string, maxPayloadBytes: number): RecoveryPoint {
  const path = join(dir, RECOVERY_POINT_FILE);
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch {
    return NOTHING;
  }
  try {
    const size = io.size(fd);
    if (size > 64 * 1024 * 1024) return NOTHING;
    const buf = new Uint8Array(size);
    const opened = openEnvelope(ENVELOPE, buf.subarray(0, readFully(io, fd, buf, 0, size, 0)));
    if (!('body' in opened)) return NOTHING;
    const parsed = JSON.parse(opened.body.toString('utf8')) as StoredPoint | null;
    if (!parsed || !Array.isArray(parsed.segments)) return NOTHING;
    const marked = parsed.closed !== undefined;
    const prefixed = parsed.prefix !== undefined;
    if (typeof parsed.maxPayloadBytes !== 'number' || parsed.maxPayloadBytes > maxPayloadBytes) return { ...NOTHING, marked, prefixed };
    const sealed = new Map<number, number>();
    for (const entry of parsed.segments) {
      if (isPair(entry)) sealed.set(entry[0], entry[1]);
    }
    return {
      sealed,
      closed: segmentCrcOf(parsed.closed, parsed.closedLast),
      marked,
      prefix: segmentCrcOf(parsed.prefix, parsed.prefixLast),
      prefixed,
    };
  } catch {
    return NOTHING;
  } finally {
    io.close(fd);
  }
}

/**
 * The JSON body: `closed` and `prefix` are `[base, size, crc]`; their last
 * records sit beside them (`closedLast`, `prefixLast`: `[position, crc]`),
 * not inside, so that a version that knows only the three-element form
 * still reads the marks (and drops the new keys when it rewrites the point).
 */
interface StoredPoint {
  segments?: unknown;
  maxPayloadBytes?: unknown;
  closed?: unknown;
  closedLast?: unknown;
  prefix?: unknown;
  prefixLast?: unknown;
}

function isPair(v: unknown): v is [number, number] {
  return Array.isArray(v) && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1]);
}

/** A clean-close mark or a synced prefix as stored ([base, size, crc], and its last record), or undefined when malformed. */
function segmentCrcOf(v: unknown, last: unknown): CleanClose | undefined {
  if (!Array.isArray(v) || v.length !== 3 || !isPair(v)) return undefined;
  const crc = (v as unknown[])[2];
  if (!isU32(crc)) return undefined;
  const mark: CleanClose = { base: v[0], size: v[1], crc };
  // a malformed last record costs the readers their shortcut, not the mark
  if (isPair(last) && (last as unknown[]).length === 2 && isU32(last[1]) && last[0] >= HEADER_SIZE && last[0] + RECORD_OVERHEAD <= mark.size) {
    mark.last = { position: last[0], crc: last[1] };
  }
  return mark;
}

function isU32(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
}

/** Records the trusted sealed segments (and a clean close, or a synced prefix), atomically and durably. */
export function writeRecoveryPoint(
  io: FileIO,
  dir: string,
  segments: Iterable<[base: number, size: number]>,
  maxPayloadBytes: number,
  closed?: CleanClose,
  prefix?: SyncedPrefix,
): void {
  const point: StoredPoint & { format: number } = { format: 1, maxPayloadBytes, segments: [...segments] };
  if (closed) point.closed = [closed.base, closed.size, closed.crc];
  if (closed?.last) point.closedLast = [closed.last.position, closed.last.crc];
  if (prefix) point.prefix = [prefix.base, prefix.size, prefix.crc];
  if (prefix?.last) point.prefixLast = [prefix.last.position, prefix.last.crc];
  replaceFileAtomically(io, join(dir, RECOVERY_POINT_FILE), sealEnvelope(ENVELOPE, Buffer.from(JSON.stringify(point))));
}

/**
 * Best effort: the recovery point only saves work. When it cannot be
 * written, a stale one is removed rather than left to vouch for segments a
 * recovery may have just changed; the next open then scans everything.
 */
export function updateRecoveryPoint(...args: Parameters<typeof writeRecoveryPoint>): void {
  const [io, dir] = args;
  try {
    writeRecoveryPoint(...args);
  } catch {
    // when even that fails, nothing more to do: a damaged or stale point fails its size checks or its checksum
    unlinkQuietly(io, join(dir, RECOVERY_POINT_FILE));
  }
}

/**
 * Rewrites the point without its clean-close mark and its synced prefix
 * (with `prefix`, this writer's own, instead), or removes it; throws when
 * neither is done. Not best effort, for a mark: a writer that went on with
 * the mark in place could crash with a torn tail of exactly the marked size,
 * and the next open would take the tail for records. For a prefix: readers
 * trust a prefix by its last record alone (journal/vouchedPrefix.ts), so a
 * writer whose recovery cut below it must not write records there while it
 * still vouches for the old ones.
 */
export function withdrawMarks(io: FileIO, dir: string, segments: Iterable<[base: number, size: number]>, maxPayloadBytes: number, prefix?: SyncedPrefix): void {
  try {
    writeRecoveryPoint(io, dir, segments, maxPayloadBytes, undefined, prefix);
  } catch {
    const path = join(dir, RECOVERY_POINT_FILE);
    try {
      io.unlink(path);
      io.syncDir(dir);
    } catch (err) {
      throw ioError('withdrawing the last segment marks of', path, err);
    }
  }
}
