import { BadSegmentHeaderError, ioError } from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { hasErrno } from '../shared/errno.js';
import { refuseValidRecordOverLimit } from '../recovery/overLimit.js';
import { rangeIsZero, scanSegment } from '../recovery/scanSegment.js';
import { checkSegmentHeader, listSegmentFilesSettled, type SegmentFile } from '../recovery/segmentFiles.js';
import { readPublishedHead } from './publishedHead.js';
import { vouchedPrefix } from './vouchedPrefix.js';
import { archivedRun } from '../archive/archive.js';
import { dropReadBytes, type SegmentManager } from './segmentManager.js';

/** How far the last segment has been scanned, and the last record seen there. */
interface Scanned {
  base: number;
  position: number;
  /** File position and 40-byte header of the last valid record scanned. */
  lastRecord?: { position: number; header: Uint8Array };
}

/**
 * What a read-only journal knows of a directory another process writes:
 * the segments and the head, refreshed from disk. It never changes a file.
 *
 * Each segment's header is checked once, when the segment is first seen;
 * a bad one is refused with BadSegmentHeaderError, as the writer's recovery
 * would refuse it. The exception is a last segment that is shorter than a
 * header or all zero: the writer is creating it (or crashed doing so, and
 * its recovery will move it aside), so it is not part of the log yet.
 *
 * The writer rolls back a failed write (docs/journal.md), so bytes this view
 * scanned past may be cut and overwritten. Each refresh first re-reads the
 * header of the last record it scanned: if the file is shorter than what was
 * scanned or that header changed, the cached windows of the segment are
 * dropped and it is scanned again from its first record, instead of resuming
 * in the middle of a different record (a stuck head, or a healthy log
 * reported as corrupt).
 *
 * A segment's first scan takes the prefix that RECOVERY_POINT vouches for
 * as scanned once the last record the mark names holds (vouchedPrefix.ts);
 * the rest is scanned record by record.
 *
 * The head is then capped at the writer's published head (PUBLISHED_HEAD,
 * see publishedHead.ts): bytes past it are written but not acknowledged (a
 * sync still running, or a failed write about to be rolled back), and a
 * reader that delivered them could deliver records that never become part
 * of the log.
 */
export class ReadOnlyView {
  head = 0;
  private scanned: Scanned | undefined;
  /** Bases of the segments whose header was checked. */
  private checked = new Set<number>();
  /** The last valid published head read (or where a damaged one held the head); undefined while the directory never had the file. */
  private published: number | undefined;

  constructor(
    private readonly io: FileIO,
    private readonly dir: string,
    private readonly maxPayloadBytes: number,
    private readonly segments: SegmentManager,
    /** The writer's archive (JournalOptions.archiveDir): its segments are read as the oldest of the log. */
    private readonly archiveDir?: string,
  ) {}

  /**
   * Re-lists the segments and scans the last one past what was seen. A
   * partial record at the end is a write in progress, not corruption: the
   * head stops before it. True when the head or the earliest offset moved,
   * or the view was rebuilt: a read that missed is worth trying again.
   */
  refresh(): boolean {
    // The listing can be stale by the time the last segment is opened: the
    // writer rotated and its cleanup deleted that segment meanwhile. List again.
    for (let attempt = 1; ; attempt++) {
      try {
        return this.refreshOnce();
      } catch (err) {
        if (attempt >= 10 || !isGone(err)) throw err;
      }
    }
  }

  private refreshOnce(): boolean {
    // listed again while a racing cleanup leaves a hole (see listSegmentFilesSettled):
    // a read in a hole would land in the segment before it
    const files = listSegmentFilesSettled(this.io, this.dir, (listed) => this.visible(listed));
    const before = this.head;
    const firstBefore = this.segments.first?.base;
    // listed each refresh, like the live directory: the writer's cleanup moves segments there
    const archived = this.archiveDir === undefined || files.length === 0 ? [] : archivedRun(this.io, this.archiveDir, files[0]!.base).segments;
    this.segments.reset(files.map((f) => f.base), archived);
    this.checked = new Set(files.map((f) => f.base));
    const last = this.segments.last;
    if (!last) {
      this.scanned = undefined;
      this.head = 0;
      return before !== 0;
    }
    const fd = this.segments.fdOf(last);
    const size = this.io.size(fd);
    let scanned: Scanned = { base: last.base, position: HEADER_SIZE };
    let rebuilt = false;
    if (this.scanned?.base === last.base) {
      if (this.stillHolds(this.scanned, fd, size)) {
        scanned = this.scanned;
      } else {
        dropReadBytes(last);
        rebuilt = true;
      }
    }
    if (size > scanned.position) scanned = this.scan(last, fd, scanned, size);
    this.scanned = scanned;
    this.head = this.capped(last.base + scanned.position - HEADER_SIZE, this.segments.segments[0]!.base);
    return rebuilt || this.head !== before || this.segments.first?.base !== firstBefore;
  }

  /**
   * The scanned head, or the published one when it is lower. Read after the
   * scan, so that it is at least as fresh as the bytes scanned. A torn read
   * (it raced the writer's overwrite) is retried, then the last valid value
   * is kept; a damaged file with no valid value seen yet holds the head where
   * it was (at the first segment's base on the first refresh); only a
   * directory that never had the file (a writer that does not publish one)
   * goes by the scan alone.
   */
  private capped(scannedHead: number, firstBase: number): number {
    let published = readPublishedHead(this.io, this.dir);
    for (let i = 0; published === 'damaged' && i < 3; i++) published = readPublishedHead(this.io, this.dir);
    if (typeof published === 'number') this.published = published;
    else if (published === 'damaged' && this.published === undefined) this.published = Math.max(firstBase, Math.min(scannedHead, this.head));
    return this.published === undefined ? scannedHead : Math.min(scannedHead, this.published);
  }

  /** The files that are segments of the log, each header checked once. */
  private visible(files: SegmentFile[]): SegmentFile[] {
    const out: SegmentFile[] = [];
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (this.checked.has(file.base)) {
        out.push(file);
        continue;
      }
      const verdict = this.checkHeader(file, i === files.length - 1);
      if (verdict === 'ok') out.push(file);
      // 'gone': deleted by the writer's cleanup since the listing
    }
    return out;
  }

  private checkHeader(file: SegmentFile, last: boolean): 'ok' | 'gone' | 'not-yet' {
    let fd: number;
    try {
      fd = this.io.open(file.path, 'r');
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return 'gone';
      throw ioError('opening', file.path, err);
    }
    try {
      // The size is taken before the header is read: a segment being created
      // grows from empty to header and records between two reads, and the
      // records of a moment later are no reason to call a short header damage.
      const size = this.io.size(fd);
      const header = checkSegmentHeader(this.io, fd, file);
      if (header.ok) return 'ok';
      if (last && header.tornCreate && rangeIsZero(this.io, fd, HEADER_SIZE, size)) return 'not-yet';
      throw new BadSegmentHeaderError(file.name, header.problem);
    } finally {
      this.io.close(fd);
    }
  }

  /** Whether the bytes up to `scanned.position` are still the ones scanned. */
  private stillHolds(scanned: Scanned, fd: number, size: number): boolean {
    if (size < scanned.position) return false;
    const seen = scanned.lastRecord;
    if (!seen) return true;
    const now = new Uint8Array(RECORD_OVERHEAD);
    if (readFully(this.io, fd, now, 0, RECORD_OVERHEAD, seen.position) < RECORD_OVERHEAD) return false;
    for (let i = 0; i < RECORD_OVERHEAD; i++) if (now[i] !== seen.header[i]) return false;
    return true;
  }

  private scan(seg: { name: string; base: number }, fd: number, from: Scanned, size: number): Scanned {
    if (size <= from.position) return from;
    if (from.position === HEADER_SIZE) {
      // the segment's first scan: what the writer vouched for durably is taken by its last record, not checked record by record
      const vouched = vouchedPrefix(this.io, this.dir, fd, seg.base, size, this.maxPayloadBytes);
      if (vouched) {
        from = { base: from.base, ...vouched };
        if (size <= from.position) return from;
      }
    }
    let lastPos = -1;
    const header = new Uint8Array(RECORD_OVERHEAD);
    const scan = scanSegment(this.io, fd, {
      maxPayloadBytes: this.maxPayloadBytes,
      start: from.position,
      size,
      // what a read checks (FORMAT.md): the records this view vouches for are checked again by each read
      fullChecks: false,
      visit: (pos, _n, buf, i) => {
        lastPos = pos;
        for (let k = 0; k < RECORD_OVERHEAD; k++) header[k] = buf[i + k]!;
      },
    });
    if (scan.failure?.reason === 'length-over-limit') {
      // a writer with a larger limit wrote it: say so rather than stop short
      refuseValidRecordOverLimit(this.io, fd, seg, scan.failure.position, size, this.maxPayloadBytes);
    }
    return {
      base: from.base,
      position: scan.end,
      lastRecord: lastPos >= 0 ? { position: lastPos, header } : from.lastRecord,
    };
  }
}

/** A file that was listed is gone (ENOENT, possibly wrapped in a WAL_IO error: hasErrno looks through it). */
function isGone(err: unknown): boolean {
  return hasErrno(err, 'ENOENT');
}
