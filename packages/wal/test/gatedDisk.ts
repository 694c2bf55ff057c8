import type { FileIO } from '../src/index.js';
import { SimulatedDisk } from '../src/testing/index.js';

/** A SimulatedDisk whose async syncs wait until the test releases them. */
export class GatedDisk {
  readonly disk = new SimulatedDisk();
  readonly io: FileIO;
  /** Async syncs started and not yet released, in call order. */
  readonly held: Array<{ fd: number; release: (fail?: Error) => void }> = [];
  gate = false;
  /** Most async syncs running at once. */
  maxRunning = 0;
  private running = new Map<number, number>();
  /** Descriptors closed while an async sync on them was still running (must stay empty). */
  readonly closedUnderSync: number[] = [];

  constructor() {
    const disk = this.disk;
    this.io = {
      open: (p, f) => disk.open(p, f),
      close: (fd) => {
        if ((this.running.get(fd) ?? 0) > 0) this.closedUnderSync.push(fd);
        disk.close(fd);
      },
      read: (fd, b, o, l, p) => disk.read(fd, b, o, l, p),
      write: (fd, b, o, l, p) => disk.write(fd, b, o, l, p),
      fsync: (fd) => disk.fsync(fd),
      fsyncAsync: (fd) => this.fsyncAsync(fd),
      truncate: (fd, l) => disk.truncate(fd, l),
      size: (fd) => disk.size(fd),
      readdir: (d) => disk.readdir(d),
      mkdir: (d) => disk.mkdir(d),
      rename: (a, b) => disk.rename(a, b),
      unlink: (p) => disk.unlink(p),
      syncDir: (d) => disk.syncDir(d),
      stat: (p) => disk.stat(p),
      readlink: (p) => disk.readlink(p),
    };
  }

  private async fsyncAsync(fd: number): Promise<void> {
    this.running.set(fd, (this.running.get(fd) ?? 0) + 1);
    let total = 0;
    for (const n of this.running.values()) total += n;
    this.maxRunning = Math.max(this.maxRunning, total);
    try {
      // the sync covers the writes made before this call, as a real one does
      const synced = this.disk.fsyncAsync(fd);
      if (this.gate) {
        const failure = await new Promise<Error | undefined>((release) => this.held.push({ fd, release }));
        if (failure) {
          synced.catch(() => undefined);
          throw failure;
        }
      }
      await synced;
    } finally {
      this.running.set(fd, this.running.get(fd)! - 1);
    }
  }
}

/** Lets every queued callback and microtask run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

