import type { CutReason } from '../errors.js';

/** One range of bytes that recovery removed from the log (after copying it). */
export interface RecoveryCut {
  /** Segment file name the bytes came from. */
  segment: string;
  /** File position of the first cut byte. */
  position: number;
  /** Global offset of the first cut byte (the new head, for the first cut). */
  offset: number;
  reason: CutReason;
  /** Number of bytes cut (the quarantine file holds exactly these bytes). */
  bytes: number;
  /** Quarantine file, relative to the journal directory (`quarantine/<name>.bin`). */
  quarantine: string;
  /**
   * Well-formed records found inside the cut bytes. Zero after a torn write;
   * non-zero means valid data followed the damage: likely media corruption,
   * unless those records were never synced (a power loss can keep later
   * unsynced pages and lose earlier ones). The
   * search is bounded to a multiple of the cut's size, so on pathological
   * bytes this is a lower bound.
   */
  wellFormedRecordsInCut: number;
}

export interface SegmentSummary {
  name: string;
  base: number;
  /** File size in bytes, header included. */
  size: number;
  records: number;
}

export interface RecoveryReport {
  dir: string;
  segmentsChecked: number;
  /** Sealed segments whose records a recovery point vouched for (headers checked, records not rescanned). */
  segmentsTrusted: number;
  /** The last segment was not scanned: the previous writer closed it cleanly, and its size and CRC32C still match (or its size, with `lastSegmentCheckDeferred`). */
  lastSegmentTrusted: boolean;
  /**
   * With `lastSegmentTrusted`: the open checked the mark's size only and left
   * the CRC32C of the file to a check in the background, which must pass
   * before the writer's first write (docs/recovery.md, After a clean close).
   */
  lastSegmentCheckDeferred?: true;
  /**
   * Bytes at the start of the last segment whose records were not scanned: the
   * writer had synced them and recorded their CRC32C, which still matches
   * (0: the segment was scanned from its header, or trusted whole).
   */
  lastSegmentPrefixTrusted: number;
  /**
   * CRC32C of the last segment's bytes from its start to the head, as
   * recovery verified them (or as the clean-close mark vouched for them).
   * The writer carries it on as it appends, for the marks it leaves in
   * RECOVERY_POINT, without reading the segment again. Absent when recovery
   * did not compute it (the last segment was removed).
   */
  lastSegmentCrc32c?: number;
  /**
   * File position of the last record of the last segment (the one that ends
   * at the head), when recovery knows it: the writer names it in the marks
   * it leaves, for readers to check (docs/readers.md, Refresh).
   */
  lastSegmentLastRecord?: number;
  recordsVerified: number;
  /** Record bytes verified (headers plus payloads, segment headers excluded). */
  bytesVerified: number;
  /** Offset of the first retained record (the base of the first segment). */
  earliest: number;
  /** Offset where the next record will be written. */
  head: number;
  /** Zero bytes after the head in the last segment, left as preallocated space. */
  freeSpaceBytes: number;
  segments: SegmentSummary[];
  cuts: RecoveryCut[];
  /** An explicit repair of sealed data was asked for and carried out. */
  repaired: boolean;
  durationMs: number;
}

/** One problem found by a full verification. */
export interface VerifyProblem {
  segment: string;
  position: number;
  offset: number;
  reason: CutReason;
  message: string;
}

export interface VerifyReport {
  dir: string;
  ok: boolean;
  segmentsChecked: number;
  recordsVerified: number;
  bytesVerified: number;
  earliest: number;
  head: number;
  segments: SegmentSummary[];
  /**
   * Segments a live writer's cleanup deleted while the journal was verified
   * (listed, gone before they were read): not problems. Absent when none.
   */
  deletedWhileVerifying?: string[];
  /** With an archive: the history below `below` is not in it (`file`: the missing file, when an older one says which). Absent otherwise. */
  archiveMissing?: { below: number; file: string | undefined };
  problems: VerifyProblem[];
  durationMs: number;
}

/** Progress of a long verification or recovery, for progress bars. */
export interface ScanProgress {
  segment: string;
  bytesDone: number;
  bytesTotal: number;
}
