import { join } from 'node:path';
import { createDirectories, nodeFileIO, type FileIO } from '@episteme/wal';
import { hasErrno, ioError, readFully, replaceFileAtomically } from '@episteme/wal/internals';
import { InvalidProjectionArgumentError } from './errors.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from './snapshot.js';

/** Where snapshots live. `load` throws CorruptSnapshotError for a damaged one. */
export interface SnapshotStore {
  load(name: string): Snapshot | undefined;
  save(snapshot: Snapshot): void;
  remove(name: string): void;
}

export const PROJECTIONS_DIR = 'projections';

/**
 * One file per projection in `<journal>/projections/`, replaced atomically:
 * written new, synced, renamed over the old one, directory synced. A crash
 * leaves the old snapshot or the new one, never a mix.
 */
export class FileSnapshotStore implements SnapshotStore {
  readonly dir: string;

  constructor(journalDir: string, private readonly io: FileIO = nodeFileIO) {
    if (typeof journalDir !== 'string' || journalDir.includes('\0')) {
      throw new InvalidProjectionArgumentError('a snapshot directory is a path without NUL bytes');
    }
    this.dir = join(journalDir, PROJECTIONS_DIR);
  }

  load(name: string): Snapshot | undefined {
    const path = this.pathOf(name);
    let fd: number;
    try {
      fd = this.io.open(path, 'r');
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return undefined;
      throw ioError('opening snapshot', path, err);
    }
    let bytes: Uint8Array;
    try {
      const size = this.io.size(fd);
      const buf = new Uint8Array(size);
      bytes = buf.subarray(0, readFully(this.io, fd, buf, 0, size, 0));
    } catch (err) {
      throw ioError('reading snapshot', path, err);
    } finally {
      this.io.close(fd);
    }
    return decodeSnapshot(bytes, path);
  }

  save(snapshot: Snapshot): void {
    // encoded first: a state that cannot be encoded leaves the disk as it was
    const bytes = encodeSnapshot(snapshot);
    createDirectories(this.io, this.dir);
    replaceFileAtomically(this.io, this.pathOf(snapshot.name), bytes);
  }

  remove(name: string): void {
    try {
      this.io.unlink(this.pathOf(name));
      this.io.syncDir(this.dir);
    } catch (err) {
      if (!hasErrno(err, 'ENOENT')) throw err;
    }
  }

  private pathOf(name: string): string {
    return join(this.dir, `${name}.snapshot`);
  }
}

/** Snapshots in memory, for tests and read models that need not outlive the process. */
export class InMemorySnapshotStore implements SnapshotStore {
  private readonly snapshots = new Map<string, Uint8Array>();

  load(name: string): Snapshot | undefined {
    const bytes = this.snapshots.get(name);
    return bytes && decodeSnapshot(bytes, `memory:${name}`);
  }

  save(snapshot: Snapshot): void {
    // encoded like a file, so that state is copied, not shared with the engine
    this.snapshots.set(snapshot.name, encodeSnapshot(snapshot));
  }

  remove(name: string): void {
    this.snapshots.delete(name);
  }
}
