import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CONSUMERS_DIR, decodeCursorFile } from '@episteme/consumers';
import { PROJECTIONS_DIR, decodeSnapshot } from '@episteme/projections';
import type { FileIO } from '@episteme/wal';
import { codeOf, hasErrno, QUARANTINE_DIR, parseSegmentName, readFully } from '@episteme/wal/internals';

/** The whole content of a file through a FileIO, or undefined when it does not exist. */
export function readAll(io: FileIO, path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    const size = io.size(fd);
    const buf = new Uint8Array(size);
    const n = readFully(io, fd, buf, 0, size, 0);
    return buf.subarray(0, n);
  } finally {
    io.close(fd);
  }
}

export function listDir(io: FileIO, dir: string): string[] {
  try {
    return io.readdir(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

export function isZero(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

export function digest(text: string | Uint8Array): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 12);
}

/** What the directory held just before the writer reopened it, read without the system under test. */
export interface PreState {
  /** Segment name -> size, and the bytes when they were copied. */
  segments: Map<string, { size: number; bytes?: Uint8Array }>;
  /** Quarantine file name -> size. */
  quarantine: Map<string, number>;
  /** Consumer name -> stored cursor, or the decoding error. */
  cursors: Map<string, number | Error>;
  /** The tally projection's snapshot checkpoint, a decoding error, or none. */
  snapshot: number | Error | undefined;
}

/**
 * Copies what the checks compare against: every segment's bytes (`all`,
 * cheap on the simulated disk) or only the last one's (`last`, real files:
 * recovery may only cut the last segment without an explicit repair).
 */
export function capturePre(io: FileIO, dir: string, copy: 'all' | 'last', snapshotName: string): PreState {
  const names = listDir(io, dir)
    .filter((n) => parseSegmentName(n) !== undefined)
    .sort();
  const segments = new Map<string, { size: number; bytes?: Uint8Array }>();
  names.forEach((name, i) => {
    const path = join(dir, name);
    if (copy === 'all' || i === names.length - 1) {
      const bytes = readAll(io, path);
      if (bytes) segments.set(name, { size: bytes.length, bytes: bytes.slice() });
    } else {
      const st = io.stat(path);
      if (st?.isFile) segments.set(name, { size: st.size });
    }
  });
  const quarantine = new Map<string, number>();
  for (const name of listDir(io, join(dir, QUARANTINE_DIR))) quarantine.set(name, io.stat(join(dir, QUARANTINE_DIR, name))?.size ?? -1);
  const cursors = new Map<string, number | Error>();
  for (const file of listDir(io, join(dir, CONSUMERS_DIR))) {
    if (!file.endsWith('.cursor')) continue;
    const path = join(dir, CONSUMERS_DIR, file);
    try {
      cursors.set(file.slice(0, -'.cursor'.length), decodeCursorFile(readAll(io, path) ?? new Uint8Array(0), path).cursor);
    } catch (err) {
      cursors.set(file.slice(0, -'.cursor'.length), err as Error);
    }
  }
  let snapshot: PreState['snapshot'];
  const snapPath = join(dir, PROJECTIONS_DIR, `${snapshotName}.snapshot`);
  const snapBytes = readAll(io, snapPath);
  if (snapBytes) {
    try {
      snapshot = decodeSnapshot(snapBytes, snapPath).checkpoint;
    } catch (err) {
      snapshot = err as Error;
    }
  }
  return { segments, quarantine, cursors, snapshot };
}

export function describeError(err: unknown): string {
  const code = codeOf(err);
  const name = err instanceof Error ? err.constructor.name : typeof err;
  const msg = err instanceof Error ? err.message : String(err);
  return `${name}${code !== undefined ? ` ${code}` : ''}: ${msg.split('\n')[0]}`;
}
