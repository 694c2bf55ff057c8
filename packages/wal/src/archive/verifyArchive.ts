import { checkSegmentHeader, type SegmentFile } from '../recovery/segmentFiles.js';
import { scanSegment } from '../recovery/scanSegment.js';
import type { SegmentSummary, VerifyProblem } from '../recovery/report.js';
import type { FileIO } from '../io/fileIO.js';
import { HEADER_SIZE } from '../format/constants.js';
import { archivedRun } from './archive.js';

export interface ArchiveCheck {
  segments: SegmentSummary[];
  records: number;
  bytes: number;
  /** Where the log's history begins: the archive's first base, or the live first base without one. */
  earliest: number;
  problems: VerifyProblem[];
  /** History below `earliest` missing from the archive (not a problem of the files: a hole the journal's earliest shows). */
  missing: { below: number; file: string | undefined } | undefined;
}

/**
 * Every record of the archived segments the journal reads (the run that
 * ends where its first live segment starts), checked as `verify` checks a
 * sealed segment: header, CRC32C, BLAKE3, and a sealed segment's size.
 */
export function verifyArchive(io: FileIO, archiveDir: string, liveFirst: number, maxPayloadBytes: number): ArchiveCheck {
  const run = archivedRun(io, archiveDir, liveFirst);
  const out: ArchiveCheck = { segments: [], records: 0, bytes: 0, earliest: run.segments[0]?.base ?? liveFirst, problems: [], missing: run.missing };
  for (const f of run.segments) check(io, f, maxPayloadBytes, out);
  return out;
}

function check(io: FileIO, f: SegmentFile, maxPayloadBytes: number, out: ArchiveCheck): void {
  const problem = (position: number, offset: number, reason: VerifyProblem['reason'], detail: string): void => {
    out.problems.push({ segment: f.path, position, offset, reason, message: `${f.path} at file position ${position} (offset ${offset}): ${reason}: ${detail}` });
  };
  const fd = io.open(f.path, 'r');
  try {
    const header = checkSegmentHeader(io, fd, f);
    if (!header.ok) return problem(0, f.base, 'bad-segment-header', header.problem);
    const scan = scanSegment(io, fd, { maxPayloadBytes, size: f.size });
    out.records += scan.records;
    out.bytes += scan.bytes;
    out.segments.push({ name: f.path, base: f.base, size: f.size, records: scan.records });
    if (scan.end !== f.size) {
      const position = scan.failure?.position ?? scan.end;
      problem(position, f.base + position - HEADER_SIZE, scan.failure?.reason ?? 'torn-header', 'an archived segment is sealed: every byte must be a valid record');
    }
  } finally {
    io.close(fd);
  }
}
