import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temp directories that always go away: a full run writes half a GiB of
 * journals, and an interrupted run (Ctrl-C, or the smoke test killing the
 * child) must not leave them behind in /tmp.
 */
const live = new Set<string>();

export class TempDirs {
  private readonly mine: string[] = [];

  make(prefix = 'episteme-bench-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.mine.push(dir);
    live.add(dir);
    return dir;
  }

  cleanup(): void {
    while (this.mine.length) removeDir(this.mine.pop()!);
  }
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

/**
 * Removes every live temp dir on SIGINT/SIGTERM, then exits with the usual
 * code. The handler can only run when the event loop turns, and the measured
 * code is synchronous on purpose, so suites call `signalCheckpoint()` between
 * phases: a signal is then handled within one phase (seconds, not a whole run).
 */
export function cleanupOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      for (const dir of [...live]) removeDir(dir);
      process.exit(code);
    });
  }
}

/** Lets the event loop turn once so that a pending SIGINT/SIGTERM handler runs. */
export function signalCheckpoint(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
