import { join } from 'node:path';
import { NotAJournalError, ioError } from '../errors.js';
import { HEADER_SIZE } from '../format/constants.js';
import { parseSegmentName } from '../format/segmentName.js';
import { decodeSegmentHeader } from '../format/segmentHeader.js';
import { danglingLinkOn } from '../io/directories.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { codeOf } from '../shared/errno.js';

export interface SegmentFile {
  /** File name, e.g. `0000000000000000.wal`. */
  name: string;
  path: string;
  /** Base offset from the file name. */
  base: number;
  size: number;
}

/**
 * The segment files of a journal directory sorted by base offset (names sort
 * the same way). Other files are not segments and are left alone. Throws
 * NotAJournalError when `dir` is missing or not a directory.
 */
export function listSegmentFiles(io: FileIO, dir: string): SegmentFile[] {
  let st: ReturnType<FileIO['stat']>;
  try {
    st = io.stat(dir);
  } catch (err) {
    // ENOTDIR (a file on the way), ELOOP, ENAMETOOLONG, EACCES, a NUL byte: not a journal we can open
    throw new NotAJournalError(dir, `cannot reach it (${codeOf(err) ?? String(err)})`, { cause: err });
  }
  if (!st) throw new NotAJournalError(dir, danglingLinkOn(io, dir) ?? 'no such directory');
  if (!st.isDirectory) throw new NotAJournalError(dir, 'not a directory');
  let names: string[];
  try {
    names = io.readdir(dir);
  } catch (err) {
    throw new NotAJournalError(dir, `cannot list it (${codeOf(err) ?? String(err)})`, { cause: err });
  }
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const base = parseSegmentName(name);
    if (base === undefined) continue;
    const path = join(dir, name);
    const info = io.stat(path);
    if (!info?.isFile) continue;
    segments.push({ name, path, base, size: info.size });
  }
  return segments.sort((a, b) => a.base - b.base);
}

export type HeaderCheck =
  | { ok: true }
  | { ok: false; problem: string; /** Shorter than a header or all zero: a crash while the file was created. */ tornCreate: boolean };

/** Checks a segment's header against FORMAT.md and its file name. */
export function checkSegmentHeader(io: FileIO, fd: number, segment: SegmentFile): HeaderCheck {
  const header = new Uint8Array(HEADER_SIZE);
  let got: number;
  try {
    got = readFully(io, fd, header, 0, HEADER_SIZE, 0);
  } catch (err) {
    throw ioError('reading the header of', segment.path, err);
  }
  if (got < HEADER_SIZE) {
    return { ok: false, problem: `file is ${got} bytes, shorter than the ${HEADER_SIZE}-byte header`, tornCreate: true };
  }
  const decoded = decodeSegmentHeader(header, segment.base);
  if (decoded.ok) return { ok: true };
  return { ok: false, problem: decoded.problem, tornCreate: header.every((b) => b === 0) };
}

/** The base the segment after `s` must have for the log to be contiguous. */
export function nextBase(s: SegmentFile): number {
  return s.base + (s.size - HEADER_SIZE);
}

/** Words for where `prev` and the segment after it do not meet (a gap or an overlap), or undefined when they do. */
export function discontinuity(prev: SegmentFile, next: SegmentFile): string | undefined {
  const end = nextBase(prev);
  if (end === next.base) return undefined;
  return `${end < next.base ? 'gap' : 'overlap'}: ${prev.name} ends at offset ${end}, ${next.name} starts at ${next.base}`;
}

/** Each segment but the last ends where the next one begins. */
export function isContiguous(files: readonly SegmentFile[]): boolean {
  for (let i = 0; i + 1 < files.length; i++) if (nextBase(files[i]!) !== files[i + 1]!.base) return false;
  return true;
}

/**
 * The segment files, listed again (a few times at most) while they are not
 * contiguous. A listing reads the directory, then looks at each file: a
 * writer's cleanup, deleting the oldest segments meanwhile, can leave one
 * looked at before the deletions and drop younger ones looked at after
 * them, a hole that is not in the log. A hole that stays is the directory's
 * own, and is returned as it is. `keep` filters each listing before the
 * check (a reader drops a segment still being created).
 */
export function listSegmentFilesSettled(io: FileIO, dir: string, keep: (files: SegmentFile[]) => SegmentFile[] = (f) => f): SegmentFile[] {
  for (let attempt = 1; ; attempt++) {
    const files = keep(listSegmentFiles(io, dir));
    if (attempt >= LISTING_ATTEMPTS || isContiguous(files)) return files;
  }
}

/** Listings taken at most by listSegmentFilesSettled. */
const LISTING_ATTEMPTS = 5;
