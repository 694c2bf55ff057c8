import { QuarantineError, ioError, withTypedErrors } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, HEADER_SIZE } from '../format/constants.js';
import { encodeSegmentHeader } from '../format/segmentHeader.js';
import { segmentName } from '../format/segmentName.js';
import { replaceFileAtomically } from '../io/atomicFile.js';
import { nodeFileIO, type FileIO } from '../io/fileIO.js';
import { inspectJournal, type Finding, type Inspection } from './inspect.js';
import { refuseValidRecordOverLimitIn } from './overLimit.js';
import { Quarantine } from './quarantine.js';
import type { CleanClose, SyncedPrefix } from './recoveryPoint.js';
import type { RecoveryCut, RecoveryReport, ScanProgress } from './report.js';
import { countWellFormed } from './scanSegment.js';
import { nextBase, type SegmentFile } from './segmentFiles.js';

export interface RecoverOptions {
  /**
   * Largest payload a record may claim (default 16 MiB). A longer length
   * field is a cut, unless the record is whole and verifies: then recovery
   * refuses with MaxPayloadTooSmallError and changes nothing.
   */
  maxPayloadBytes?: number;
  /**
   * Quarantine damaged sealed data (everything from the damaged record to the
   * end of the log) instead of refusing with a QuarantineError.
   */
  repair?: boolean;
  /**
   * Verify every record of sealed segments too (default true). With false only
   * headers, contiguity and the last segment are checked: faster on a big log,
   * but a bit flip in sealed data is then found only by `verifyJournal`.
   */
  scanSealed?: boolean;
  /**
   * Sealed segments (base -> file size) known good from an earlier recovery
   * or seal (see recoveryPoint.ts): their records are not scanned again.
   */
  trusted?: ReadonlyMap<number, number>;
  /**
   * The last segment as the previous writer closed it cleanly (see
   * recoveryPoint.ts): when its size and CRC32C still match, it is not scanned.
   */
  closed?: CleanClose;
  /**
   * With `closed`: a last segment larger than this is trusted when its size
   * matches, and the CRC32C check of the file is left to the caller, who
   * must pass it before it writes (the writer's tail check). The report says
   * `lastSegmentCheckDeferred`.
   */
  deferClosedCrcAbove?: number;
  /**
   * A prefix of the last segment as its writer synced it (see
   * recoveryPoint.ts): when its CRC32C still matches, only the records after
   * it are scanned.
   */
  prefix?: SyncedPrefix;
  onProgress?: (p: ScanProgress) => void;
  /** The file-system seam (tests inject faults). */
  io?: FileIO;
  /** Clock for quarantine file names. */
  now?: () => number;
}

/**
 * Writer recovery of a journal directory (FORMAT.md, Recovery):
 * 1. every segment header and the contiguity of the segments are checked;
 * 2. the last segment is scanned (past a synced prefix, or not at all after
 *    a clean close, when its CRC32C still matches); an invalid tail is copied to quarantine/,
 *    the copy made durable, then the segment truncated and synced;
 * 3. damage in sealed data throws QuarantineError and changes nothing, unless
 *    `repair` is set;
 * 4. a record over `maxPayloadBytes` that is whole and verifies is not
 *    damage: MaxPayloadTooSmallError, nothing changed (repair or not).
 * Only a writer may call this (it modifies files): hold the writer lock.
 */
export function recoverJournal(dir: string, options: RecoverOptions = {}): RecoveryReport {
  return withTypedErrors('recovering', dir, () => recover(dir, options));
}

function recover(dir: string, options: RecoverOptions): RecoveryReport {
  const started = performance.now();
  const io = options.io ?? nodeFileIO;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const inspection = inspectJournal(io, dir, {
    maxPayloadBytes,
    scanSealed: options.scanSealed,
    trusted: options.trusted,
    closed: options.closed,
    deferClosedCrcAbove: options.deferClosedCrcAbove,
    prefix: options.prefix,
    stopAtSealed: true,
    onProgress: options.onProgress,
  });
  const { segments } = inspection;
  const finding = inspection.findings[0];

  if (finding?.reason === 'length-over-limit') {
    // before any change, repair or not: a valid record is never damage
    refuseValidRecordOverLimitIn(io, segments[finding.index]!, finding.position, maxPayloadBytes);
  }
  if (finding?.kind === 'sealed' && !options.repair) {
    const seg = segments[finding.index]!;
    throw new QuarantineError(
      { segment: seg.name, position: finding.position, offset: finding.offset, reason: finding.reason },
      finding.detail,
      finding.index === segments.length - 1,
    );
  }

  const quarantine = new Quarantine(io, dir, options.now);
  const cuts: RecoveryCut[] = [];
  let kept = segments;
  if (finding) {
    kept = segments.slice(0, finding.index + (finding.kind === 'tail' || finding.position > 0 ? 1 : 0));
    // Later segments go first, last to first, so that a crash in between
    // always leaves a contiguous prefix of the log and repair can resume.
    for (let i = segments.length - 1; i >= kept.length; i--) {
      const seg = segments[i]!;
      const reason = i === finding.index ? finding.reason : 'after-cut';
      // The first segment is never moved away: with no segment left, a crash
      // would leave a journal that reopens at offset 0 under existing cursors.
      // It is copied to quarantine and atomically replaced by an empty one.
      cuts.unshift(i === 0 ? replaceWithEmpty(io, quarantine, seg, reason, maxPayloadBytes) : moveWhole(io, quarantine, seg, reason, maxPayloadBytes));
    }
    if (kept.length === finding.index + 1) {
      cuts.unshift(cutTail(io, quarantine, segments[finding.index]!, finding, maxPayloadBytes));
    }
  }

  const report = buildReport(dir, inspection, kept, cuts, options.repair === true && finding?.kind === 'sealed');
  if (kept.length === 0 && segments.length > 0) {
    report.segments.push({ name: segmentName(report.head), base: report.head, size: HEADER_SIZE, records: 0 });
  }
  report.durationMs = performance.now() - started;
  return report;
}

/** Opens a segment for one step of recovery and always closes it. */
function withSegment<T>(io: FileIO, seg: SegmentFile, flags: 'r' | 'r+', fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = io.open(seg.path, flags);
  } catch (err) {
    throw ioError('opening', seg.path, err);
  }
  try {
    return fn(fd);
  } finally {
    io.close(fd);
  }
}

/**
 * Well-formed records in a whole segment about to leave the log: the header
 * (or the gap before it) is the damage, so every valid record after it counts.
 */
function wellFormedInWhole(io: FileIO, fd: number, seg: SegmentFile, maxPayloadBytes: number): number {
  return countWellFormed(io, fd, Math.min(HEADER_SIZE, seg.size), seg.size, maxPayloadBytes, false);
}

function cutTail(io: FileIO, quarantine: Quarantine, seg: SegmentFile, finding: Finding, maxPayloadBytes: number): RecoveryCut {
  return withSegment(io, seg, 'r+', (fd) => {
    const size = io.size(fd);
    const wellFormed = countWellFormed(io, fd, finding.position, size, maxPayloadBytes, true);
    const file = quarantine.copy(seg, fd, finding.position, size);
    try {
      io.truncate(fd, finding.position);
      io.fsync(fd);
    } catch (err) {
      throw ioError('truncating', seg.path, err);
    }
    seg.size = finding.position;
    return {
      segment: seg.name,
      position: finding.position,
      offset: finding.offset,
      reason: finding.reason,
      bytes: size - finding.position,
      quarantine: file,
      wellFormedRecordsInCut: wellFormed,
    };
  });
}

function moveWhole(
  io: FileIO,
  quarantine: Quarantine,
  seg: SegmentFile,
  reason: RecoveryCut['reason'],
  maxPayloadBytes: number,
): RecoveryCut {
  const wellFormed = withSegment(io, seg, 'r', (fd) => wellFormedInWhole(io, fd, seg, maxPayloadBytes));
  const file = quarantine.move(seg);
  return { segment: seg.name, position: 0, offset: seg.base, reason, bytes: seg.size, quarantine: file, wellFormedRecordsInCut: wellFormed };
}

function buildReport(dir: string, inspection: Inspection, kept: SegmentFile[], cuts: RecoveryCut[], repaired: boolean): RecoveryReport {
  const last = kept[kept.length - 1];
  let head: number;
  if (!last) {
    // No segment left (or none ever): the log ends where the first removed one began.
    head = inspection.segments[0] ? cuts[0]!.offset : 0;
  } else if (cuts[0] && cuts[0].segment === last.name) {
    head = cuts[0].offset;
  } else if (last === inspection.segments[inspection.segments.length - 1]) {
    head = last.base + inspection.lastEnd - HEADER_SIZE;
  } else {
    head = nextBase(last);
  }
  const summaries = inspection.summaries.slice(0, kept.length).map((s, i) => ({ ...s, size: kept[i]!.size }));
  // a tail cut stops where the scan's CRC stops: it still holds for what is left
  const lastInspected = last !== undefined && last === inspection.segments[inspection.segments.length - 1];
  return {
    dir,
    segmentsChecked: inspection.summaries.length,
    segmentsTrusted: inspection.trustedSegments,
    lastSegmentTrusted: inspection.lastTrusted,
    ...(inspection.lastTrusted && inspection.lastCheckDeferred ? { lastSegmentCheckDeferred: true } : {}),
    lastSegmentPrefixTrusted: inspection.lastPrefixTrusted,
    ...(lastInspected && inspection.lastCrc !== undefined ? { lastSegmentCrc32c: inspection.lastCrc } : {}),
    ...(lastInspected && inspection.lastRecord !== undefined ? { lastSegmentLastRecord: inspection.lastRecord } : {}),
    recordsVerified: inspection.records,
    bytesVerified: inspection.bytes,
    earliest: kept[0]?.base ?? head,
    head,
    freeSpaceBytes: cuts.length === 0 ? inspection.freeSpaceBytes : 0,
    segments: summaries,
    cuts,
    repaired,
    durationMs: 0,
  };
}

/**
 * Copies a whole segment into quarantine, then renames a fresh empty segment
 * with the same base over it: at every moment a segment names where the log
 * ends, so a crash in between cannot reset the offsets.
 */
function replaceWithEmpty(
  io: FileIO,
  quarantine: Quarantine,
  seg: SegmentFile,
  reason: RecoveryCut['reason'],
  maxPayloadBytes: number,
): RecoveryCut {
  const { wellFormed, file } = withSegment(io, seg, 'r', (fd) => ({
    wellFormed: wellFormedInWhole(io, fd, seg, maxPayloadBytes),
    file: quarantine.copy(seg, fd, 0, seg.size),
  }));
  replaceFileAtomically(io, seg.path, encodeSegmentHeader(seg.base));
  return { segment: seg.name, position: 0, offset: seg.base, reason, bytes: seg.size, quarantine: file, wellFormedRecordsInCut: wellFormed };
}
