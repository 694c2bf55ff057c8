import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { readU32 } from '../format/record.js';
import { checksums } from '../checksum/index.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { loadRecoveryPoint, type SyncedPrefix } from '../recovery/recoveryPoint.js';

/**
 * A reader's first scan of the last segment, shortened where its writer
 * vouched for the bytes durably: the clean-close mark and the synced prefix
 * of RECOVERY_POINT (recoveryPoint.ts) each name a size and the CRC32C of
 * the segment's first `size` bytes, written and synced only after those
 * bytes were synced, every record among them valid. When the file's first
 * `size` bytes still have that CRC they are those bytes, durable: the view
 * walks their length fields (for the boundaries and the last record's
 * header, which its refresh compares) with one native CRC32C call per 4 MiB
 * instead of a CRC32C call per record. Each read still checks every record
 * it hands out.
 *
 * Not the published head (taken back in 852e521): that file is never synced
 * and can name bytes a power loss took back. A stale mark or prefix (a later
 * writer's recovery cut below it and wrote other records) fails the CRC, and
 * a bit flip below it too: the view then scans record by record as before,
 * and its head stops before the damage.
 */

/** Bytes hashed per read of the walk. */
const WALK_CHUNK = 4 * 1024 * 1024;

export interface WalkedPrefix {
  /** File position after the last record of the prefix (the prefix's size). */
  position: number;
  /** The last record's file position and 40-byte header. */
  lastRecord: { position: number; header: Uint8Array };
}

/**
 * The prefix of segment `base` that RECOVERY_POINT vouches for and that
 * still has its CRC32C, walked; undefined when there is none (the caller
 * scans from the segment's first record). `size` is the file's size now.
 */
export function walkSyncedPrefix(io: FileIO, dir: string, fd: number, base: number, size: number, maxPayloadBytes: number): WalkedPrefix | undefined {
  const point = loadRecoveryPoint(io, dir, maxPayloadBytes);
  // the larger of the two that fit this file: a clean close covers the whole segment, a prefix what was synced
  const candidates = [point.closed, point.prefix].filter((p): p is SyncedPrefix => p !== undefined && p.base === base && p.size > HEADER_SIZE && p.size <= size);
  candidates.sort((a, b) => b.size - a.size);
  for (const prefix of candidates) {
    const walked = walk(io, fd, prefix, maxPayloadBytes);
    if (walked) return walked;
  }
  return undefined;
}

/** Hashes the first `prefix.size` bytes and walks their records; undefined when the CRC or a length does not fit. */
function walk(io: FileIO, fd: number, prefix: SyncedPrefix, maxPayloadBytes: number): WalkedPrefix | undefined {
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
