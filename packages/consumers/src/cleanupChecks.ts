import type { CursorStore } from '@episteme/wal';

/**
 * How long a run's commits may go without looking for what cleanup could
 * free, while the last look found another consumer holding the log (ms).
 */
export const CLEANUP_RECHECK_MS = 1000;

/**
 * What the registry's last cleanup found: when, and which consumer held the
 * lowest cursor. A runner commits every ~1,000 records, up to a thousand
 * times a second in a catch-up, and each cleanup reads every consumer's
 * cursor file (~100 µs of the commit's main-thread time here): while
 * another consumer held the log a moment ago, this one's commit cannot be
 * what frees it. Skipping a look never deletes anything; it can only delete
 * later, by at most CLEANUP_RECHECK_MS (the run's last commit looks again).
 */
export class CleanupChecks {
  private at = Number.NEGATIVE_INFINITY;
  private holder: string | undefined;

  /** A cleanup read every cursor: `holder` had the lowest (undefined: no consumer). */
  looked(holder: string | undefined): void {
    this.at = performance.now();
    this.holder = holder;
  }

  /** Whether a run's commit of `name` may skip cleanup (see the class). */
  maySkip(name: string): boolean {
    return this.holder !== undefined && this.holder !== name && performance.now() - this.at < CLEANUP_RECHECK_MS;
  }
}

/** The lowest durable cursor of the stored consumers and whose it is; undefined with none. A damaged cursor file throws: never guess a position. */
export function lowestFloor(store: CursorStore): { cursor: number; name: string } | undefined {
  let lowest: { cursor: number; name: string } | undefined;
  for (const name of store.names()) {
    const cursor = store.readFloor(name);
    if (cursor === undefined) continue; // deleted meanwhile
    if (lowest === undefined || cursor < lowest.cursor) lowest = { cursor, name };
  }
  return lowest;
}
