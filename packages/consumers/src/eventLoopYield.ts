/** How often the runner lets the event loop run: timers (an abort), signals, a commit's sync. */
const YIELD_EVERY_MS = 10;
/** Clock reads aim at one per this much handler time: a yield comes at most this late. */
const CHECK_EVERY_MS = 2;
/** A no-op handler's records take well under a microsecond: this many per clock read keeps it off the hot path. */
const MAX_RECORDS_PER_CHECK = 64;

/**
 * Paces the yields of a loop that may never yield on its own: a handler that
 * returns no promise (or one already settled) runs a whole catch-up without
 * letting a timer, a signal or a commit in flight run. Reading the clock
 * after every record would be most of a no-op handler's cost, and reading it
 * every 64 let a handler of a few ms hold an abort off for hundreds of ms; so
 * the number of records between reads follows what they cost: every record
 * for a slow handler, every 64 for a fast one.
 */
export class EventLoopYield {
  private lastYield = performance.now();
  private lastCheck = this.lastYield;
  private sinceCheck = 0;
  private recordsPerCheck = 1;

  /** How many records may be handled before `afterRecords` reads the clock (at least 1). */
  recordsBeforeCheck(): number {
    return Math.max(1, this.recordsPerCheck - this.sinceCheck);
  }

  /** After `n` records: a yield to await when one is due, else undefined (no await on the hot path). */
  afterRecords(n: number): Promise<void> | undefined {
    if ((this.sinceCheck += n) < this.recordsPerCheck) return undefined;
    const now = performance.now();
    const perRecordMs = Math.max(now - this.lastCheck, 1e-6) / this.sinceCheck;
    this.recordsPerCheck = Math.min(MAX_RECORDS_PER_CHECK, Math.max(1, Math.floor(CHECK_EVERY_MS / perRecordMs)));
    this.sinceCheck = 0;
    this.lastCheck = now;
    return now - this.lastYield >= YIELD_EVERY_MS ? this.yield() : undefined;
  }

  /** Whether a yield is due (between batches): 10 ms since the last one of two turns. */
  due(): boolean {
    return performance.now() - this.lastYield >= YIELD_EVERY_MS;
  }

  /**
   * Two turns of setImmediate, not one: resumed from the poll phase (an fs
   * callback, a commit's sync), one turn lands in that same loop iteration's
   * check phase, and the timers phase (an abort on a setTimeout) is skipped.
   */
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastCheck = this.lastYield = performance.now();
    this.sinceCheck = 0;
  }
}
