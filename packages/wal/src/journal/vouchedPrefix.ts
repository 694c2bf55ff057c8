import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { checkRecordChecksums, readU32 } from '../format/record.js';
import { checksums } from '../checksum/index.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { loadRecoveryPoint, type RecoveryPoint, type SyncedPrefix } from '../recovery/recoveryPoint.js';

/**
 * A reader's first scan of the last segment, cut short where its writer
 * vouched for the bytes durably: the clean-close mark and the synced prefix
 * of RECOVERY_POINT (recoveryPoint.ts) each name a size, written and synced
 * only after the segment's first `size` bytes were synced, every record
 * among them valid.
 *
 * A mark that names its last record (its file position and stored CRC32C)
 * is checked by that record alone: read, CRC32C checked, its CRC field the
 * one the mark names, ending exactly at the mark's size. Then the bytes
 * before it are taken as scanned, unread: each read checks the CRC32C of
 * every record it hands out, so damage there is found by the read that meets
 * it (WAL_CORRUPT_RECORD at its offset), as in a sealed segment. The point
 * is read again after the record: a writer that cut below the mark (its
 * recovery) replaces the point before it writes a record there
 * (withdrawMarks), so a point unchanged across the check was not stale when
 * the record was read. docs/readers.md says what this trusts.
 *
 * An older mark (no last record) is checked as before: the CRC32C of the
 * whole prefix in one native pass per 4 MiB, and a walk over its length
 * fields for the last record's header.
 *
 * Not the published head (taken back in 852e521): that file is never synced
 * and can name bytes a power loss took back. A mark that does not hold (a
 * stale one, a damaged last record, an older mark whose CRC fails) is not
 * used: the view then scans record by record, and its head stops before
 * damage.
 */

/** Bytes hashed per read of an older mark's walk. */
const WALK_CHUNK = 4 * 1024 * 1024;
/** Times the point is read again when it changed during the check (a live writer records a prefix every few MiB). */
const ATTEMPTS = 3;

export interface VouchedPrefix {
  /** File position after the last record of the prefix (the prefix's size). */
  position: number;
  /** The last record's file position and 40-byte header. */
  lastRecord: { position: number; header: Uint8Array };
}

/**
 * The prefix of segment `base` that RECOVERY_POINT vouches for and that
 * still holds; undefined when there is none (the caller scans from the
 * segment's first record). `size` is the file's size now.
 */
export function vouchedPrefix(io: FileIO, dir: string, fd: number, base: number, size: number, maxPayloadBytes: number): VouchedPrefix | undefined {
  let point = loadRecoveryPoint(io, dir, maxPayloadBytes);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    // the larger of the two that fit this file: a clean close covers the whole segment, a prefix what was synced
    const candidates = marksOf(point, base, size);
    let changed = false;
    for (const mark of candidates) {
      if (mark.last === undefined) {
        const walked = walk(io, fd, mark, maxPayloadBytes);
        if (walked) return walked;
        continue;
      }
      const held = lastRecordHolds(io, fd, mark, maxPayloadBytes);
      if (!held) continue;
      const again = loadRecoveryPoint(io, dir, maxPayloadBytes);
      if (marksOf(again, base, size).some((m) => sameMark(m, mark))) return held;
      point = again;
      changed = true;
      break;
    }
    if (!changed) return undefined;
  }
  return undefined;
}

function marksOf(point: RecoveryPoint, base: number, size: number): SyncedPrefix[] {
  const marks = [point.closed, point.prefix].filter((p): p is SyncedPrefix => p !== undefined && p.base === base && p.size > HEADER_SIZE && p.size <= size);
  return marks.sort((a, b) => b.size - a.size);
}

function sameMark(a: SyncedPrefix, b: SyncedPrefix): boolean {
  return a.base === b.base && a.size === b.size && a.crc === b.crc && a.last?.position === b.last?.position && a.last?.crc === b.last?.crc;
}

/**
 * The mark's last record, read and checked: within this reader's limit,
 * ending exactly at the mark's size, its CRC32C valid and its CRC field the
 * one the mark names. Undefined when any of that fails.
 */
function lastRecordHolds(io: FileIO, fd: number, mark: SyncedPrefix, maxPayloadBytes: number): VouchedPrefix | undefined {
  const { position, crc } = mark.last!;
  const header = new Uint8Array(RECORD_OVERHEAD);
  if (readFully(io, fd, header, 0, RECORD_OVERHEAD, position) < RECORD_OVERHEAD) return undefined;
  const n = readU32(header, 0);
  if (n > maxPayloadBytes || position + RECORD_OVERHEAD + n !== mark.size || readU32(header, 4) !== crc) return undefined;
  const record = new Uint8Array(RECORD_OVERHEAD + n);
  record.set(header);
  if (n > 0 && readFully(io, fd, record, RECORD_OVERHEAD, n, position + RECORD_OVERHEAD) < n) return undefined;
  if (checkRecordChecksums(record, 0, n, false) !== null) return undefined;
  return { position: mark.size, lastRecord: { position, header } };
}

/** An older mark: hashes the first `prefix.size` bytes and walks their records; undefined when the CRC or a length does not fit. */
function walk(io: FileIO, fd: number, prefix: SyncedPrefix, maxPayloadBytes: number): VouchedPrefix | undefined {
  const cs = checksums();
  const buf = new Uint8Array(Math.min(WALK_CHUNK, prefix.size));
  const length = new Uint8Array(4);
  let crc = 0;
  let next = HEADER_SIZE; // file position of the next record
  let last = -1;
  for (let at = 0; at < prefix.size; ) {
    const n = readFully(io, fd, buf, 0, Math.min(buf.length, prefix.size - at), at);
    if (n === 0) return undefined;
    crc = cs.crc32c(buf, 0, n, crc);
    const end = at + n;
    while (next < end) {
      let len: number;
      if (next + 4 <= end) len = readU32(buf, next - at);
      else if (readFully(io, fd, length, 0, 4, next) === 4) len = readU32(length, 0); // a length field across two reads
      else return undefined;
      // a record over this reader's limit: the full scan says so (refuseValidRecordOverLimit)
      if (len > maxPayloadBytes) return undefined;
      last = next;
      next += RECORD_OVERHEAD + len;
    }
    at = end;
  }
  if (crc !== prefix.crc || next !== prefix.size || last < 0) return undefined;
  const header = new Uint8Array(RECORD_OVERHEAD);
  if (readFully(io, fd, header, 0, RECORD_OVERHEAD, last) < RECORD_OVERHEAD) return undefined;
  return { position: prefix.size, lastRecord: { position: last, header } };
}
