import { ioError, type CutReason } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, HEADER_SIZE } from '../format/constants.js';
import type { FileIO } from '../io/fileIO.js';
import { hasErrno } from '../shared/errno.js';
import type { ScanProgress, SegmentSummary } from './report.js';
import { fileCrc32c, type CleanClose, type SyncedPrefix } from './recoveryPoint.js';
import { rangeIsZero, scanSegment } from './scanSegment.js';
import { checkSegmentHeader, discontinuity, listSegmentFiles, listSegmentFilesSettled, type SegmentFile } from './segmentFiles.js';

/**
 * Where a journal directory is damaged, found by a read-only pass:
 * - `tail`: an invalid record in the last segment (a torn write; recovery cuts it);
 * - `torn-create`: the last segment is shorter than its header or all zero
 *   (a crash while it was created; recovery moves it aside whole);
 * - `sealed`: anything else (a bad header, a gap, an invalid record in a
 *   sealed segment): never repaired without being asked.
 */
export interface Finding {
  kind: 'tail' | 'torn-create' | 'sealed';
  /** Index into `Inspection.segments`. */
  index: number;
  position: number;
  offset: number;
  reason: CutReason;
  detail: string;
}

export interface Inspection {
  segments: SegmentFile[];
  summaries: SegmentSummary[];
  records: number;
  bytes: number;
  /** End of the valid records in the last segment (file position), when it was scanned. */
  lastEnd: number;
  freeSpaceBytes: number;
  /** Sealed segments whose records were not scanned because a recovery point vouched for them. */
  trustedSegments: number;
  /** The last segment was not scanned: a clean-close mark vouched for it (same size, same CRC32C; the CRC may be left to the caller: `deferClosedCrcAbove`). */
  lastTrusted: boolean;
  /** With `lastTrusted`: only the size was checked, the CRC32C is the caller's to check (`deferClosedCrcAbove`). */
  lastCheckDeferred?: boolean;
  /** Bytes at the start of the last segment that were not scanned: a synced prefix vouched for them (0: none). */
  lastPrefixTrusted: number;
  /** CRC32C of the last segment's bytes up to `lastEnd`, when its header was valid (a writer carries it on). */
  lastCrc?: number;
  /** File position of the record that ends at `lastEnd`, when known (a writer names it in its marks). */
  lastRecord?: number;
  findings: Finding[];
  /** Segments listed but gone before they were opened (`live` only). */
  vanished: SegmentFile[];
}

export interface InspectOptions {
  maxPayloadBytes?: number;
  /** Scan the records of sealed segments too (default true). */
  scanSealed?: boolean;
  /** Sealed segments (base -> size) whose records need no scan (a recovery point). */
  trusted?: ReadonlyMap<number, number>;
  /** The last segment as a writer closed it cleanly: no scan when its size and CRC still match. */
  closed?: CleanClose;
  /**
   * With `closed`: a last segment larger than this many bytes is trusted on
   * its size alone, its CRC32C left to the caller (a writer checks it in the
   * background before its first write, see journal/tailCheck.ts);
   * `lastCheckDeferred` says so. A smaller one is checked at once.
   */
  deferClosedCrcAbove?: number;
  /** A prefix of the last segment its writer synced: its records are not scanned when its CRC still matches. */
  prefix?: SyncedPrefix;
  /** Stop at the first finding that is not a tail cut (recovery needs no more). */
  stopAtSealed?: boolean;
  /**
   * Another process may be writing the journal and deleting its oldest
   * segments (a verification of a live journal): a listing that is not
   * contiguous is taken again, and a segment that is gone by the time it is
   * opened is skipped and named in `vanished` instead of failing the pass.
   */
  live?: boolean;
  onProgress?: (p: ScanProgress) => void;
}

export function inspectJournal(io: FileIO, dir: string, options: InspectOptions = {}): Inspection {
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const segments = options.live ? listSegmentFilesSettled(io, dir) : listSegmentFiles(io, dir);
  const bytesTotal = segments.reduce((sum, s) => sum + s.size, 0);
  const result: Inspection = {
    segments,
    summaries: [],
    records: 0,
    bytes: 0,
    lastEnd: HEADER_SIZE,
    freeSpaceBytes: 0,
    trustedSegments: 0,
    lastTrusted: false,
    lastPrefixTrusted: 0,
    findings: [],
    vanished: [],
  };
  let bytesBefore = 0;

  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    const summary: SegmentSummary = { name: seg.name, base: seg.base, size: seg.size, records: 0 };
    result.summaries.push(summary);
    const finding = (kind: Finding['kind'], position: number, reason: CutReason, detail: string): void => {
      result.findings.push({ kind, index: i, position, offset: seg.base + Math.max(0, position - HEADER_SIZE), reason, detail });
    };

    let fd: number;
    try {
      fd = io.open(seg.path, 'r');
    } catch (err) {
      if (options.live && !last && hasErrno(err, 'ENOENT')) {
        result.summaries.pop();
        result.vanished.push(seg);
        bytesBefore += seg.size;
        continue;
      }
      throw ioError('opening', seg.path, err);
    }
    try {
      const header = checkSegmentHeader(io, fd, seg);
      if (!header.ok) {
        const tornCreate = last && header.tornCreate && rangeIsZero(io, fd, HEADER_SIZE, seg.size);
        finding(tornCreate ? 'torn-create' : 'sealed', 0, 'bad-segment-header', header.problem);
      } else {
        const prev = segments[i - 1];
        const gap = prev && discontinuity(prev, seg);
        if (gap) finding('sealed', 0, 'segment-gap', gap);
        const trusted = !last && options.trusted?.get(seg.base) === seg.size;
        if (trusted) result.trustedSegments++;
        const closed = last && options.closed?.base === seg.base && options.closed.size === seg.size ? options.closed : undefined;
        const defer = closed !== undefined && options.deferClosedCrcAbove !== undefined && seg.size > options.deferClosedCrcAbove;
        if (closed && (defer || fileCrc32c(io, fd, seg.size) === closed.crc)) {
          result.lastTrusted = true;
          if (defer) result.lastCheckDeferred = true;
          result.lastEnd = seg.size;
          result.lastCrc = closed.crc;
          if (closed.last) result.lastRecord = closed.last.position;
        } else if (last || (options.scanSealed !== false && !trusted)) {
          const prefix = last ? trustedPrefix(io, fd, seg, options.prefix) : undefined;
          const start = prefix?.size ?? HEADER_SIZE;
          if (start > HEADER_SIZE) result.lastPrefixTrusted = start;
          const scan = scanSegment(io, fd, {
            maxPayloadBytes,
            start,
            // a live writer may have sealed (trimmed) or grown its last segment since the listing
            size: options.live && last ? io.size(fd) : seg.size,
            crcBefore: prefix?.crc,
            onProgress: options.onProgress && ((pos) => options.onProgress!({ segment: seg.name, bytesDone: bytesBefore + pos, bytesTotal })),
          });
          summary.records = scan.records;
          result.records += scan.records;
          result.bytes += scan.bytes;
          if (last) {
            result.lastEnd = scan.end;
            result.lastCrc = scan.crc;
            const lastRecord = scan.last >= 0 ? scan.last : prefix?.last?.position;
            if (lastRecord !== undefined) result.lastRecord = lastRecord;
          }
          if (scan.failure) {
            if (!last) {
              finding('sealed', scan.failure.position, scan.failure.reason, 'invalid record in a sealed segment');
            } else if (scan.freeSpace) {
              result.freeSpaceBytes = seg.size - scan.end;
            } else {
              finding('tail', scan.failure.position, scan.failure.reason, 'invalid record at the end of the last segment');
            }
          }
        } else if (last) {
          result.lastEnd = seg.size;
        }
      }
    } finally {
      io.close(fd);
    }
    bytesBefore += seg.size;
    const latest = result.findings[result.findings.length - 1];
    if (options.stopAtSealed && latest?.kind === 'sealed') break;
  }
  return result;
}

/**
 * Where the scan of the last segment starts, with the CRC32C of the bytes
 * before it: after its synced prefix when that still has its CRC, else after
 * the header (checked already).
 */
function trustedPrefix(io: FileIO, fd: number, seg: SegmentFile, prefix: SyncedPrefix | undefined): SyncedPrefix | { size: number; crc: number; last?: undefined } {
  if (prefix && prefix.base === seg.base && prefix.size > HEADER_SIZE && prefix.size <= seg.size && fileCrc32c(io, fd, prefix.size) === prefix.crc) {
    return prefix;
  }
  return { size: HEADER_SIZE, crc: fileCrc32c(io, fd, HEADER_SIZE) };
}
