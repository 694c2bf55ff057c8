/** Why a projection is rebuilt from offset 0 instead of resumed. */
export type RebuildReason =
  | 'no-snapshot'
  | 'snapshot-damaged'
  | 'version-changed'
  | 'log-cut-below-checkpoint'
  | 'checkpoint-beyond-head'
  | 'checkpoint-not-a-boundary'
  | 'requested';

export interface StartReport {
  name: string;
  /**
   * `aborted`: the start's signal was aborted (or `stop()` was called) before
   * this projection was caught up; it does not follow. A rebuild cut short
   * saved nothing (the old snapshot stays, the next start rebuilds again);
   * a resume cut short saved what it had applied (`checkpoint`).
   */
  mode: 'resumed' | 'rebuilt' | 'failed' | 'aborted';
  reason?: RebuildReason;
  /** Human explanation of the reason or of the failure. */
  detail?: string;
  /** Checkpoint after catching up to the head. */
  checkpoint: number;
  /** Events applied while starting (the whole log for a rebuild). */
  events: number;
  durationMs: number;
  error?: Error;
}

export interface RebuildProgress {
  name: string;
  /** Events applied so far. */
  done: number;
  /** Events in the log when the rebuild started. */
  total: number;
  /** Events per second since the rebuild started. */
  rate: number;
  checkpoint: number;
}

export interface RebuildReport {
  name: string;
  reason: RebuildReason;
  events: number;
  checkpoint: number;
  durationMs: number;
  /** Events per second. */
  rate: number;
}

export interface ProjectionInfo {
  name: string;
  version: number;
  checkpoint: number;
  head: number;
  events: number;
  status: 'stopped' | 'running' | 'rebuilding' | 'failed';
  error?: string;
  lastSnapshotAt?: string;
}
