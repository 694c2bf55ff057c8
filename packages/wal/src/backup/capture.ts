import { join } from 'node:path';
import { NotAJournalError, ioError } from '../errors.js';
import { HEADER_SIZE, QUARANTINE_DIR } from '../format/constants.js';
import { parseSegmentName } from '../format/segmentName.js';
import { isAtomicTempFile } from '../io/atomicFile.js';
import { closeQuietly } from '../io/closers.js';
import { readFully, type FileIO } from '../io/fileIO.js';
import { JournalReader } from '../journal/journalReader.js';
import { PUBLISHED_HEAD_FILE } from '../journal/publishedHead.js';
import { LOCK_FILE } from '../journal/writerLock.js';
import { RECOVERY_POINT_FILE } from '../recovery/recoveryPoint.js';
import { listSegmentFiles } from '../recovery/segmentFiles.js';
import { archivedRun } from '../archive/archive.js';
import { hasErrno } from '../shared/errno.js';
import { BackupInconsistentError } from './errors.js';
import { isCopyTemp } from '../io/fileCopy.js';
import { MANIFEST_FILE } from './manifest.js';

/**
 * How a layer above the log reads the log positions its files name (a
 * consumer's cursor, a projection's checkpoint, the stream index's head),
 * so that a backup can check that none lies beyond the head it copied.
 * The log knows no file of the layers above it: they pass these in.
 */
export interface StatePositions {
  /** The files it reads: their path relative to the journal starts with this (`consumers/`). */
  prefix: string;
  /** The positions the file names; an empty list for a file it cannot read (a damaged cursor is the consumer's business, as in the journal). */
  positions(bytes: Uint8Array, path: string): readonly number[];
}

/** A segment of the backup, held open from the moment it was listed: cleanup cannot take its bytes away. */
export interface HeldSegment {
  name: string;
  path: string;
  base: number;
  fd: number;
  /** Bytes of the file that belong to the backup: the whole sealed segment, or up to the head. */
  length: number;
  /** Whether it is sealed (immutable) and whole in the backup. */
  sealed: boolean;
}

/** A file of the journal besides its segments, read whole before the head was taken. */
export interface StateFile {
  /** Relative to the journal directory, `/`-separated. */
  path: string;
  bytes: Uint8Array;
}

/** The journal at one instant: everything a backup writes, taken from the source and held. */
export interface Capture {
  head: number;
  earliest: number;
  takenAt: Date;
  segments: HeldSegment[];
  state: StateFile[];
  close(): void;
}

/** Files of the writer itself, which a backup leaves out: a restored journal gets its own at its first open. */
const WRITER_FILES: ReadonlySet<string> = new Set([LOCK_FILE, PUBLISHED_HEAD_FILE, `${PUBLISHED_HEAD_FILE}.new`, RECOVERY_POINT_FILE, MANIFEST_FILE]);

/**
 * Takes the journal in `dir` at one instant while its writer may run.
 *
 * 1. The segments are listed and each opened: an open descriptor keeps a
 *    segment's bytes readable even when the writer's cleanup deletes it
 *    meanwhile.
 * 2. Every other file (cursors, snapshots, the stream index) is read into
 *    memory. Each is replaced whole by a rename, or (cursor slots) never
 *    left without a valid previous slot, so each read is one consistent
 *    version of the file.
 * 3. The head is taken as a reader in another process takes it
 *    (`JournalReader`: the last whole record at or below the head the writer
 *    published, each record's CRC32C checked). The positions that the
 *    files of step 2 name were at or below the head when they were written,
 *    and the head only grows while the writer runs (a SIGKILLed writer's
 *    successor recovers at least every acknowledged record): so none of them
 *    lies beyond it.
 * 4. The segment holding the head is synced from our own descriptor. The
 *    published head is never synced, and with `none` durability the records
 *    below it may still be in the page cache only: after this fdatasync they
 *    are on disk, so the journal cannot lose, to a power loss, records the
 *    backup holds (and then write others at the same offsets, which would
 *    leave the backup on a history the journal no longer has). Syncing
 *    changes no byte of the file; with `immediate` durability it finds
 *    nothing to write.
 *
 * Cursors and checkpoints only move forward, and cleanup deletes only what
 * every cursor has passed: the segments listed in step 1 hold every record
 * from the lowest cursor read in step 2 on.
 */
export async function captureJournal(io: FileIO, dir: string, maxPayloadBytes: number, checks: readonly StatePositions[] = [], archiveDir?: string): Promise<Capture> {
  const held = new Map<number, { name: string; path: string; base: number; fd: number }>();
  const close = (): void => {
    for (const s of held.values()) closeQuietly(io, s.fd);
    held.clear();
  };
  try {
    const listed = listSegmentFiles(io, dir);
    if (listed.length === 0) throw new NotAJournalError(dir, 'it holds no segment file');
    // the archived history first: it runs up to the first live segment (archive/archive.ts)
    if (archiveDir !== undefined) holdSegments(io, archivedRun(io, archiveDir, listed[0]!.base).segments, held);
    holdSegments(io, listed, held, archiveDir);
    const state = readStateFiles(io, dir);
    const reader = await JournalReader.open({ dir, io, maxPayloadBytes });
    let head: number;
    try {
      head = reader.head;
    } finally {
      await reader.close();
    }
    const takenAt = new Date();
    // segments the writer created since the listing (it rotated)
    holdSegments(io, listSegmentFiles(io, dir).filter((s) => s.base < head), held);
    const segments = backupSegments(io, [...held.values()].sort((a, b) => a.base - b.base), head);
    const last = segments[segments.length - 1]!;
    try {
      io.fsync(last.fd);
    } catch (err) {
      throw ioError('syncing', last.path, err);
    }
    checkPositions(state, checks, head);
    return { head, earliest: segments[0]!.base, takenAt, segments, state, close };
  } catch (err) {
    close();
    throw err;
  }
}

function holdSegments(io: FileIO, files: ReturnType<typeof listSegmentFiles>, held: Map<number, { name: string; path: string; base: number; fd: number }>, archiveDir?: string): void {
  for (const f of files) {
    if (held.has(f.base)) continue;
    // cleanup may have moved it to the archive since the listing
    for (const path of archiveDir === undefined ? [f.path] : [f.path, join(archiveDir, f.name)]) {
      let fd: number;
      try {
        fd = io.open(path, 'r');
      } catch (err) {
        if (hasErrno(err, 'ENOENT')) continue; // cleanup deleted it since the listing: checked for gaps below
        throw ioError('opening', path, err);
      }
      held.set(f.base, { name: f.name, path, base: f.base, fd });
      break;
    }
  }
}

/**
 * The segments from the first held one up to the one holding the head:
 * each sealed one whole, the last cut at the head. Segments from the head
 * on (an empty one the writer just created) are left out: the backup's log
 * ends at the head, in a segment the next writer appends to.
 */
function backupSegments(io: FileIO, held: { name: string; path: string; base: number; fd: number }[], head: number): HeldSegment[] {
  const below = held.filter((s) => s.base < head);
  // an empty log, or one whose records all went to cleanup: its one segment, header only
  const chosen = below.length > 0 ? below : held.filter((s) => s.base === head).slice(0, 1);
  if (chosen.length === 0) throw new BackupInconsistentError(`no segment holds the head ${head}`);
  const out: HeldSegment[] = [];
  for (let i = 0; i < chosen.length; i++) {
    const s = chosen[i]!;
    const size = io.size(s.fd);
    const next = chosen[i + 1];
    if (next) {
      // contiguity (FORMAT.md): a sealed segment ends where the next begins
      if (size - HEADER_SIZE !== next.base - s.base) throw new BackupInconsistentError(`${s.name} holds ${size - HEADER_SIZE} bytes of records, but the next segment starts ${next.base - s.base} after it (a segment deleted between the listing and the copy?)`);
      out.push({ ...s, length: size, sealed: true });
      continue;
    }
    const length = HEADER_SIZE + head - s.base;
    if (length > size) throw new BackupInconsistentError(`${s.name} has ${size} bytes, fewer than the head ${head} needs`);
    // sealed when the writer already moved on to a segment starting at the head
    const sealed = length === size && held.some((h) => h.base === head && h.base !== s.base);
    out.push({ ...s, length, sealed });
  }
  return out;
}

/** Every file but the segments, the writer's own files and the quarantine, read whole. */
function readStateFiles(io: FileIO, dir: string): StateFile[] {
  const out: StateFile[] = [];
  const walk = (rel: string): void => {
    const abs = rel === '' ? dir : join(dir, rel);
    let names: string[];
    try {
      names = io.readdir(abs).sort();
    } catch (err) {
      if (rel !== '' && hasErrno(err, 'ENOENT', 'ENOTDIR')) return;
      throw ioError('listing', abs, err);
    }
    for (const name of names) {
      if (rel === '' && (WRITER_FILES.has(name) || name === QUARANTINE_DIR || parseSegmentName(name) !== undefined)) continue;
      if (isAtomicTempFile(name) || isCopyTemp(name)) continue;
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const st = io.stat(join(dir, relPath));
      if (st?.isDirectory) walk(relPath);
      else if (st?.isFile) {
        const bytes = readWhole(io, join(dir, relPath));
        if (bytes) out.push({ path: relPath, bytes });
      }
    }
  };
  walk('');
  return out;
}

function readWhole(io: FileIO, path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined; // removed since the listing (a consumer deleted)
    throw ioError('opening', path, err);
  }
  try {
    const size = io.size(fd);
    const buf = new Uint8Array(size);
    return buf.subarray(0, readFully(io, fd, buf, 0, size, 0));
  } catch (err) {
    throw ioError('reading', path, err);
  } finally {
    io.close(fd);
  }
}

/** Refuses a state file naming a position beyond the head: the backup would not open as it should. */
export function checkPositions(state: readonly StateFile[], checks: readonly StatePositions[], head: number): void {
  for (const file of state) {
    for (const check of checks) {
      if (!file.path.startsWith(check.prefix)) continue;
      for (const p of check.positions(file.bytes, file.path)) {
        if (p > head) throw new BackupInconsistentError(`${file.path} names position ${p}, beyond the head ${head}`);
      }
    }
  }
}
