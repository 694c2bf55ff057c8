import { join } from 'node:path';
import { crc32cJs } from '../checksum/crc32cTable.js';
import { replaceFileAtomically } from '../io/atomicFile.js';
import { readFully, type FileIO } from '../io/fileIO.js';

export const RECOVERY_POINT_FILE = 'RECOVERY_POINT';

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
 * The trusted segments, or none when the file is missing or damaged, or was
 * written under a larger maxPayloadBytes (its segments may hold records this
 * limit refuses: they must be scanned so that open says so).
 */
export function readRecoveryPoint(io: FileIO, dir: string, maxPayloadBytes: number): TrustedSegments {
  const path = join(dir, RECOVERY_POINT_FILE);
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch {
    return new Map();
  }
  try {
    const size = io.size(fd);
    if (size > 64 * 1024 * 1024) return new Map();
    const buf = new Uint8Array(size);
    const text = Buffer.from(buf.subarray(0, readFully(io, fd, buf, 0, size, 0))).toString('utf8');
    const nl = text.indexOf('\n');
    const body = text.slice(nl + 1);
    if (nl < 0 || text.slice(0, nl) !== crc32cJs(Buffer.from(body)).toString(16).padStart(8, '0')) return new Map();
    const parsed = JSON.parse(body) as { segments?: unknown; maxPayloadBytes?: unknown } | null;
    if (!parsed || !Array.isArray(parsed.segments)) return new Map();
    if (typeof parsed.maxPayloadBytes !== 'number' || parsed.maxPayloadBytes > maxPayloadBytes) return new Map();
    const trusted = new Map<number, number>();
    for (const entry of parsed.segments) {
      if (Array.isArray(entry) && Number.isSafeInteger(entry[0]) && Number.isSafeInteger(entry[1])) trusted.set(entry[0] as number, entry[1] as number);
    }
    return trusted;
  } catch {
    return new Map();
  } finally {
    io.close(fd);
  }
}

/** Records the trusted sealed segments, atomically and durably. */
export function writeRecoveryPoint(io: FileIO, dir: string, segments: Iterable<[base: number, size: number]>, maxPayloadBytes: number): void {
  const body = JSON.stringify({ format: 1, maxPayloadBytes, segments: [...segments] });
  const crc = crc32cJs(Buffer.from(body)).toString(16).padStart(8, '0');
  replaceFileAtomically(io, join(dir, RECOVERY_POINT_FILE), Buffer.from(`${crc}\n${body}`));
}

/**
 * Best effort: the recovery point only saves work. When it cannot be
 * written, a stale one is removed rather than left to vouch for segments a
 * recovery may have just changed; the next open then scans everything.
 */
export function updateRecoveryPoint(io: FileIO, dir: string, segments: Iterable<[base: number, size: number]>, maxPayloadBytes: number): void {
  try {
    writeRecoveryPoint(io, dir, segments, maxPayloadBytes);
  } catch {
    try {
      io.unlink(join(dir, RECOVERY_POINT_FILE));
    } catch {
      // nothing more to do: a damaged or stale point fails its size checks or its checksum
    }
  }
}
