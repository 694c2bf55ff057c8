import { join } from 'node:path';
import { nodeFileIO, readFully, replaceFileAtomically, type FileIO } from '@episteme/wal';
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
    this.dir = join(journalDir, PROJECTIONS_DIR);
  }

  load(name: string): Snapshot | undefined {
    const path = this.pathOf(name);
    let fd: number;
    try {
      fd = this.io.open(path, 'r');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const size = this.io.size(fd);
      const buf = new Uint8Array(size);
      const n = readFully(this.io, fd, buf, 0, size, 0);
      return decodeSnapshot(buf.subarray(0, n), path);
    } finally {
      this.io.close(fd);
    }
  }

  save(snapshot: Snapshot): void {
    if (this.io.mkdir(this.dir)) this.io.syncDir(join(this.dir, '..'));
    replaceFileAtomically(this.io, this.pathOf(snapshot.name), encodeSnapshot(snapshot));
  }

  remove(name: string): void {
    try {
      this.io.unlink(this.pathOf(name));
      this.io.syncDir(this.dir);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
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
