import { NotRecordBoundaryError, isWalError, WalErrorCodes, nodeFileIO, type FileIO, type Journal } from '@episteme/wal';
import { validateConsumerName } from './consumerName.js';
import type { CursorState } from './cursorFile.js';
import { CursorStore } from './cursorStore.js';
import {
  ConsumerNotFoundError,
  ConsumerRunningError,
  CorruptCursorError,
  CursorBackwardsError,
  InvalidConsumerArgumentError,
  InvalidCursorError,
  isConsumerError,
} from './errors.js';

/** Where a new consumer starts: the earliest retained record, the head, or an offset. */
export type StartFrom = 'earliest' | 'latest' | number;

export interface ConsumerInfo {
  name: string;
  cursor: number;
  head: number;
  /** Bytes of records between the cursor and the head. */
  lagBytes: number;
  /** Records between the cursor and the head (undefined when the cursor is not readable). */
  lagRecords: number | undefined;
  lastCommitAt: string;
  state: 'registered' | 'running' | 'stopped' | 'failed';
  /** The failed handler's message, or why the cursor cannot be used. */
  error?: string;
  pid?: number;
}

/** A stored cursor that no longer fits the log, and what was done about it. */
export interface CursorClampEvent {
  name: string;
  storedCursor: number;
  clampedTo: number;
  reason: 'cut-by-recovery' | 'beyond-head' | 'below-earliest' | 'not-a-boundary';
  message: string;
}

export interface Logger {
  warn(message: string): void;
  info?(message: string): void;
}

export interface RegistryOptions {
  /** File-system seam for cursor files (tests drop unsynced writes here). */
  io?: FileIO;
  /** Delete segments below the lowest cursor after commits (default true; writers only). */
  autoCleanup?: boolean;
  logger?: Logger;
  now?: () => Date;
}

/**
 * The consumers of one journal: their durable cursors, administration
 * (register, list, reset, delete) and the cleanup the lowest cursor allows.
 * Cursor files are the truth, so several processes (an app and the CLI) see
 * the same registry.
 */
export class ConsumerRegistry {
  readonly store: CursorStore;
  /** Cursors that recovery left beyond the log, clamped when this registry opened. */
  readonly clamped: CursorClampEvent[] = [];
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly autoCleanup: boolean;

  constructor(readonly journal: Journal, options: RegistryOptions = {}) {
    this.store = new CursorStore(journal.dir, options.io ?? nodeFileIO);
    this.logger = options.logger ?? { warn: (m) => console.warn(m) };
    this.now = options.now ?? (() => new Date());
    this.autoCleanup = options.autoCleanup !== false;
    this.clampAfterRecovery();
  }

  register(name: string, options: { startFrom?: StartFrom } = {}): CursorState {
    validateConsumerName(name);
    const existing = this.store.read(name);
    if (existing) return existing;
    const cursor = this.resolvePosition(name, options.startFrom ?? 'earliest');
    const state: CursorState = { name, cursor, committedAt: this.now().toISOString(), state: 'registered' };
    this.store.write(state);
    return state;
  }

  get(name: string): CursorState {
    const state = this.store.read(validateConsumerName(name));
    if (!state) throw new ConsumerNotFoundError(name);
    return state;
  }

  has(name: string): boolean {
    return this.store.read(validateConsumerName(name)) !== undefined;
  }

  list(): ConsumerInfo[] {
    const head = this.journal.head;
    return this.store.names().map((name) => {
      let state: CursorState;
      try {
        state = this.get(name);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return { name, cursor: -1, head, lagBytes: 0, lagRecords: undefined, lastCommitAt: '', state: 'failed', error };
      }
      let lagRecords: number | undefined;
      try {
        lagRecords = this.journal.countRecords(state.cursor, head);
      } catch {
        lagRecords = undefined;
      }
      return {
        name,
        cursor: state.cursor,
        head,
        lagBytes: Math.max(0, head - state.cursor),
        lagRecords,
        lastCommitAt: state.committedAt,
        state: effectiveState(state),
        ...(state.error !== undefined ? { error: state.error } : {}),
        ...(state.state === 'running' && state.pid !== undefined ? { pid: state.pid } : {}),
      };
    });
  }

  /**
   * Moves a consumer's cursor forward after its handler succeeded. A cursor
   * must be a record boundary in [earliest, head]; going backwards needs
   * `reset`.
   */
  commit(name: string, cursor: number, patch: Partial<Pick<CursorState, 'state' | 'error' | 'pid'>> = {}): CursorState {
    const current = this.get(name);
    if (cursor < current.cursor) throw new CursorBackwardsError(name, current.cursor, cursor);
    if (cursor !== current.cursor) this.validateCursor(name, cursor);
    const next: CursorState = { ...current, ...patch, cursor, committedAt: this.now().toISOString() };
    if (next.state !== 'failed') delete next.error;
    if (next.state !== 'running') delete next.pid;
    this.store.write(next);
    if (this.autoCleanup && cursor !== current.cursor) this.cleanup();
    return next;
  }

  /** Rewinds or forwards a consumer to an offset, `earliest` or `latest`; refused while it runs elsewhere. */
  reset(name: string, to: StartFrom): CursorState {
    const current = this.get(name);
    this.refuseIfRunningElsewhere(current);
    const cursor = this.resolvePosition(name, to);
    const next: CursorState = { name, cursor, committedAt: this.now().toISOString(), state: current.state === 'running' ? 'stopped' : current.state };
    if (next.state === 'failed') next.state = 'stopped';
    this.store.write(next);
    return next;
  }

  delete(name: string): void {
    const current = this.get(name);
    this.refuseIfRunningElsewhere(current);
    this.store.remove(name);
    if (this.autoCleanup) this.cleanup();
  }

  /** The lowest cursor of all registered consumers (undefined with none). */
  lowestCursor(): number | undefined {
    let lowest: number | undefined;
    for (const name of this.store.names()) {
      const { cursor } = this.get(name); // a damaged cursor file throws: never guess a position
      if (lowest === undefined || cursor < lowest) lowest = cursor;
    }
    return lowest;
  }

  /**
   * Deletes the sealed segments that every registered consumer has passed.
   * With no consumer nothing is deleted; a lagging or failed one holds the log.
   */
  cleanup(): string[] {
    if (this.journal.readOnly) return [];
    let lowest: number | undefined;
    try {
      lowest = this.lowestCursor();
    } catch (err) {
      if (isConsumerError(err)) {
        this.logger.warn(`cleanup skipped: ${err.message}`);
        return [];
      }
      throw err;
    }
    if (lowest === undefined) return [];
    const deleted = this.journal.deleteSegmentsBelow(lowest);
    if (deleted.length > 0) this.logger.info?.(`cleanup: deleted ${deleted.length} segment(s) below offset ${lowest}`);
    return deleted;
  }

  /** Throws unless `cursor` is a record boundary within [earliest, head]. */
  validateCursor(name: string, cursor: unknown): number {
    if (typeof cursor !== 'number' || !Number.isSafeInteger(cursor) || cursor < 0) {
      throw new InvalidCursorError(name, cursor, 'an offset is a non-negative integer');
    }
    const { earliest, head } = this.journal;
    if (cursor < earliest) {
      throw new InvalidCursorError(name, cursor, `below the earliest retained offset ${earliest} (cleanup deleted those records)`);
    }
    if (cursor > head) throw new InvalidCursorError(name, cursor, `beyond the head ${head}`);
    if (cursor !== head && !this.isBoundary(cursor)) {
      throw new InvalidCursorError(name, cursor, 'not the start of a record');
    }
    return cursor;
  }

  private resolvePosition(name: string, to: StartFrom): number {
    if (to === 'earliest') return this.journal.earliest;
    if (to === 'latest') return this.journal.head;
    if (typeof to !== 'number') {
      throw new InvalidConsumerArgumentError(`a position is 'earliest', 'latest' or an offset, not ${JSON.stringify(to)}`);
    }
    return this.validateCursor(name, to);
  }

  private isBoundary(offset: number): boolean {
    try {
      return this.journal.read(offset) !== undefined;
    } catch (err) {
      if (err instanceof NotRecordBoundaryError || isWalError(err, WalErrorCodes.NotRecordBoundary)) return false;
      throw err;
    }
  }

  private refuseIfRunningElsewhere(state: CursorState): void {
    if (effectiveState(state) === 'running' && state.pid !== undefined && state.pid !== process.pid) {
      throw new ConsumerRunningError(state.name, state.pid);
    }
  }

  /**
   * Recovery may have cut records a consumer already processed (a torn tail
   * after a crash). Its cursor then points beyond the log, or into records
   * written since: clamp it to where the log was cut, and say so loudly.
   */
  private clampAfterRecovery(): void {
    const { earliest, head } = this.journal;
    const cutAt = this.journal.recovery?.cuts[0]?.offset;
    for (const name of this.store.names()) {
      let state: CursorState;
      try {
        state = this.get(name);
      } catch (err) {
        if (err instanceof CorruptCursorError) {
          this.logger.warn(`consumer "${name}": ${err.message}`);
          continue;
        }
        throw err;
      }
      let clampedTo: number | undefined;
      let reason: CursorClampEvent['reason'] | undefined;
      if (cutAt !== undefined && state.cursor > cutAt) {
        [clampedTo, reason] = [cutAt, 'cut-by-recovery'];
      } else if (state.cursor > head) {
        [clampedTo, reason] = [head, 'beyond-head'];
      } else if (state.cursor < earliest) {
        [clampedTo, reason] = [earliest, 'below-earliest'];
      } else if (state.cursor !== head && !this.isBoundary(state.cursor)) {
        [clampedTo, reason] = [this.boundaryAtOrBefore(state.cursor), 'not-a-boundary'];
      }
      if (clampedTo === undefined || reason === undefined) continue;
      const message =
        `consumer "${name}": stored cursor ${state.cursor} ${describe(reason)}; ` +
        `clamped to ${clampedTo}` + (this.journal.readOnly ? ' (in memory only: the journal is read-only)' : '');
      this.clamped.push({ name, storedCursor: state.cursor, clampedTo, reason, message });
      this.logger.warn(message);
      if (!this.journal.readOnly) this.store.write({ ...state, cursor: clampedTo, committedAt: this.now().toISOString() });
    }
  }

  /** The last record boundary at or before `offset`, found by walking its segment. */
  private boundaryAtOrBefore(offset: number): number {
    const segments = this.journal.segmentList();
    let base = this.journal.earliest;
    for (const s of segments) if (s.base <= offset) base = s.base;
    let pos = base;
    for (;;) {
      const batch = this.journal.readMany(pos, 1024);
      if (batch.length === 0) return pos;
      for (const rec of batch) {
        if (rec.next > offset) return rec.offset;
        pos = rec.next;
      }
    }
  }
}

function effectiveState(state: CursorState): ConsumerInfo['state'] {
  if (state.state === 'running' && state.pid !== undefined && state.pid !== process.pid && !isAlive(state.pid)) return 'stopped';
  return state.state;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

function describe(reason: CursorClampEvent['reason']): string {
  switch (reason) {
    case 'cut-by-recovery':
      return 'is beyond where recovery cut the log (records it had processed are gone)';
    case 'beyond-head':
      return 'is beyond the head';
    case 'below-earliest':
      return 'is below the earliest retained offset (records it had not processed were deleted)';
    case 'not-a-boundary':
      return 'is not a record boundary any more (the log was cut and rewritten)';
  }
}
