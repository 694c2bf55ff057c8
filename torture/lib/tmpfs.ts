import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync } from 'node:fs';

const mounted = new Set<string>();

/**
 * A real, small tmpfs (root only), so that the disk really fills up:
 * ENOSPC from the kernel, short writes included, not a simulation.
 */
export class Tmpfs {
  private constructor(readonly path: string) {}

  /** Mounts a tmpfs of `bytes` at `path`, or returns why it cannot. */
  static mount(path: string, bytes: number): Tmpfs | string {
    if (process.getuid?.() !== 0) return 'not running as root';
    try {
      mkdirSync(path, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', path], { stdio: 'pipe' });
    } catch (err) {
      return `mount failed: ${String(err).split('\n')[0]}`;
    }
    mounted.add(path);
    return new Tmpfs(path);
  }

  /** Bytes in use on the file system. */
  used(): number {
    const s = statfsSync(this.path);
    return (s.blocks - s.bfree) * s.bsize;
  }

  free(): number {
    const s = statfsSync(this.path);
    return s.bavail * s.bsize;
  }

  /** Changes the size (the kernel refuses less than what is used: then it stays as it was). */
  resize(bytes: number): boolean {
    try {
      execFileSync('mount', ['-o', `remount,size=${Math.max(bytes, 64 * 1024)}`, this.path], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  }

  unmount(): void {
    unmountPath(this.path);
  }
}

function unmountPath(path: string): void {
  try {
    execFileSync('umount', ['-l', path], { stdio: 'pipe' });
  } catch {
    // not mounted any more
  }
  mounted.delete(path);
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

/** Unmounts every tmpfs this process mounted (on exit and on signals). */
export function unmountAll(): void {
  for (const p of [...mounted]) unmountPath(p);
}
