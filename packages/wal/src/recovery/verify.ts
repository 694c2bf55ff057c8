import { withTypedErrors } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, HEADER_SIZE } from '../format/constants.js';
import { nodeFileIO, type FileIO } from '../io/fileIO.js';
import { inspectJournal } from './inspect.js';
import { verifyArchive } from '../archive/verifyArchive.js';
import { refuseValidRecordOverLimitIn } from './overLimit.js';
import { listSegmentFiles } from './segmentFiles.js';
import type { ScanProgress, VerifyReport } from './report.js';

export interface VerifyOptions {
  maxPayloadBytes?: number;
  onProgress?: (p: ScanProgress) => void;
  io?: FileIO;
  /** The journal's archive (JournalOptions.archiveDir): its segments the journal reads are verified too. */
  archiveDir?: string;
}

/**
 * Full read-only verification: every header, the contiguity of the segments
 * and every record of every segment. Reports every problem and changes
 * nothing; a torn tail that recovery would cut is a problem too, preallocated
 * zero space after the last record is not. A whole, valid record longer than
 * `maxPayloadBytes` is no problem of the journal but of the limit:
 * MaxPayloadTooSmallError, as recovery refuses it.
 */
export function verifyJournal(dir: string, options: VerifyOptions = {}): VerifyReport {
  return withTypedErrors('verifying', dir, () => verify(dir, options));
}

function verify(dir: string, options: VerifyOptions): VerifyReport {
  const started = performance.now();
  const io = options.io ?? nodeFileIO;
  const inspection = inspectJournal(io, dir, {
    maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    scanSealed: true,
    onProgress: options.onProgress,
    live: true,
  });
  const { vanished } = inspection;
  const segments = inspection.segments.filter((s) => !vanished.includes(s));
  const last = segments[segments.length - 1];
  // a whole, valid record over the limit where the log first stops is not
  // damage: MaxPayloadTooSmallError says which limit reads it (as recovery
  // checks its first finding; damage before it is reported as such)
  const first = inspection.findings[0];
  if (first?.reason === 'length-over-limit') refuseValidRecordOverLimitIn(io, inspection.segments[first.index]!, first.position, options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  const problems = inspection.findings.map((f) => {
    const seg = inspection.segments[f.index]!;
    return {
      segment: seg.name,
      position: f.position,
      offset: f.offset,
      reason: f.reason,
      message: `${seg.name} at file position ${f.position} (offset ${f.offset}): ${f.reason}: ${f.detail}`,
    };
  });
  // A live writer's cleanup deletes the oldest segments: those may vanish
  // before they are read. Any other segment that vanished is a problem.
  if (vanished.length > 0) {
    const first = listSegmentFiles(io, dir)[0]?.base ?? Number.POSITIVE_INFINITY;
    for (const seg of vanished) {
      if (seg.base >= first) {
        problems.push({ segment: seg.name, position: 0, offset: seg.base, reason: 'segment-gap', message: `${seg.name} disappeared while the journal was verified, and later segments are still there: not a cleanup` });
      }
    }
  }
  // The head as a reader would see it: the end of the valid records of the last segment.
  const head = last ? last.base + Math.max(0, inspection.lastEnd - HEADER_SIZE) : 0;
  const archive = options.archiveDir === undefined ? undefined : verifyArchive(io, options.archiveDir, segments[0]?.base ?? head, options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  if (archive) problems.unshift(...archive.problems);
  return {
    dir,
    ok: problems.length === 0,
    segmentsChecked: segments.length + (archive?.segments.length ?? 0),
    recordsVerified: inspection.records + (archive?.records ?? 0),
    bytesVerified: inspection.bytes + (archive?.bytes ?? 0),
    earliest: archive?.earliest ?? segments[0]?.base ?? 0,
    head,
    segments: [...(archive?.segments ?? []), ...inspection.summaries],
    ...(archive?.missing ? { archiveMissing: archive.missing } : {}),
    ...(vanished.length > 0 ? { deletedWhileVerifying: vanished.map((s) => s.name) } : {}),
    problems,
    durationMs: performance.now() - started,
  };
}

