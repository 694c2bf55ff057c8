import { isWalError, WalErrorCodes, nodeFileIO, type FileIO, type Journal, type JournalReader } from '@episteme/wal';
import { RecordBoundaries } from './boundaries.js';
import { describeClampReason as describe, type CursorClampEvent } from './clampEvents.js';
import { validateConsumerName } from './consumerName.js';
import type { CursorState } from './cursorFile.js';
import { CursorStore } from './cursorStore.js';
import { DamagedCursorReports, type WarningAbout } from './damageReports.js';
import {
  ConsumerNotFoundError,
  CorruptCursorError,
  CursorBackwardsError,
  InvalidCursorError,
  isConsumerError,
} from './errors.js';
import { effectiveState, refuseIfRunningElsewhere, refuseIfRunningHere } from './running.js';
import { checkRegisterOptions, checkStartFrom, type StartFrom } from './startFrom.js';


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
  /** The cursor file is damaged (`error` says so too): where, and why, for a caller that words its own advice. */
  damage?: { path: string; why: string };
  pid?: number;
}

export interface Logger {
  warn(message: string, about?: WarningAbout): void;
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

type CommitPatch = Partial<Pick<CursorState, 'state' | 'error' | 'pid'>>;

/**
 * Journals whose stored cursors were already checked against the recovered
 * log. The check belongs to the journal's open, not to each registry: run
 * again later, it would take cursors committed since then for stale ones
 * (a cursor beyond the recovery cut is, by then, simply further along).
 */
const checkedJournals = new WeakSet<Journal | JournalReader>();

/** Opened by Journal.openForRead (transitional: goes once the registry reads through LogReader and deletes through Retention). */
function isReader(journal: Journal | JournalReader): journal is JournalReader {
  return !('deleteBelow' in journal);
}

/**
 * Internal to the package (the runner): commits an offset the runner got as
 * the `next` of a record it read from the journal, which is a record
 * boundary by construction, so the O(segment) boundary walk is skipped.
 */
export const commitHandled: unique symbol = Symbol('episteme.consumers.commitHandled');
/**
 * The same, with the cursor file's syncs off the event loop (the runner keeps
 * handling meanwhile). The caller keeps at most one in flight per consumer.
 */
export const commitHandledAsync: unique symbol = Symbol('episteme.consumers.commitHandledAsync');
/** Internal to the package (the runner): marks a consumer running in this process, refused while another live process runs it. */
export const beginRun: unique symbol = Symbol('episteme.consumers.beginRun');

/**
 * The consumers of one journal: their durable cursors, administration
 * (register, list, reset, delete) and the cleanup the lowest cursor allows.
 * Cursor files are the truth, so several processes (an app and the CLI) see
 * the same registry.
 */
export class ConsumerRegistry {
  readonly store: CursorStore;
  /**
   * Cursors that did not fit the log and were clamped: on the journal's first
   * registry (after recovery), or after a cleanup that raced a registration
   * in another process.
   */
  readonly clamped: CursorClampEvent[] = [];
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly autoCleanup: boolean;
  private readonly boundaries: RecordBoundaries;
  private readonly damageReports: DamagedCursorReports;
  /** Cleanup runs after most commits: while one cause holds it back, it is warned about once, not on every commit. */
  private cleanupSkippedFor: string | undefined;

  constructor(readonly journal: Journal | JournalReader, options: RegistryOptions = {}) {
    this.store = new CursorStore(journal.dir, options.io ?? nodeFileIO);
    this.logger = options.logger ?? { warn: (m) => console.warn(m) };
    this.now = options.now ?? (() => new Date());
    this.autoCleanup = options.autoCleanup !== false;
    this.boundaries = RecordBoundaries.of(journal);
    this.damageReports = new DamagedCursorReports((m, about) => this.logger.warn(m, about));
    if (!checkedJournals.has(journal)) {
      // what a crash left in the page cache becomes durable before anyone reads it
      if (!isReader(journal)) this.store.syncAll();
      this.clampAfterRecovery();
      if (!isReader(journal)) this.removeStaleTempFiles();
      checkedJournals.add(journal);
    }
  }

  /** Registers a consumer at `startFrom` (default earliest); one already registered is returned as it is. */
  register(name: string, options?: { startFrom?: StartFrom }): CursorState {
    validateConsumerName(name);
    const startFrom = checkRegisterOptions(options);
    const existing = this.store.read(name);
    if (existing) return existing;
    const cursor = this.resolvePosition(name, startFrom);
    const state: CursorState = { name, cursor, committedAt: this.now().toISOString(), state: 'registered' };
    this.store.write(state);
    return this.recheckAgainstCleanup(state, startFrom, undefined);
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
    this.refreshView();
    const head = this.journal.head;
    return this.store.names().map((name) => {
      let state: CursorState;
      try {
        state = this.get(name);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const damage = err instanceof CorruptCursorError ? { damage: { path: err.path, why: err.why } } : {};
        return { name, cursor: -1, head, lagBytes: 0, lagRecords: undefined, lastCommitAt: '', state: 'failed', error, ...damage };
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
  commit(name: string, cursor: number, patch: CommitPatch = {}): CursorState {
    const current = this.get(name);
    if (cursor < current.cursor) throw new CursorBackwardsError(name, current.cursor, cursor);
    if (cursor !== current.cursor) this.validateCursor(name, cursor);
    return this.writeCommit(current, cursor, patch);
  }

  /** See `commitHandled`: range-checked, not walked. */
  [commitHandled](name: string, cursor: number, patch: CommitPatch = {}): CursorState {
    return this.writeCommit(this.checkHandled(name, cursor), cursor, patch);
  }

  /** See `commitHandledAsync`. */
  async [commitHandledAsync](name: string, cursor: number): Promise<CursorState> {
    const current = this.checkHandled(name, cursor);
    const next = this.nextState(current, cursor, {});
    await this.store.writeAsync(next);
    this.afterCommit(current, cursor);
    return next;
  }

  private checkHandled(name: string, cursor: number): CursorState {
    const current = this.get(name);
    if (cursor < current.cursor) throw new CursorBackwardsError(name, current.cursor, cursor);
    if (cursor !== current.cursor) {
      const { earliest, head } = this.journal;
      if (!Number.isSafeInteger(cursor) || cursor < earliest || cursor > head) {
        throw new InvalidCursorError(name, cursor, `outside [${earliest}, ${head}]`);
      }
      this.boundaries.remember(name, cursor);
    }
    return current;
  }

  /** See `beginRun`. */
  [beginRun](name: string): CursorState {
    const current = this.get(name);
    refuseIfRunningElsewhere(current); // the runner itself refuses one already running here
    return this.writeCommit(current, current.cursor, { state: 'running', pid: process.pid });
  }

  /**
   * Rewinds or forwards a consumer to an offset, `earliest` or `latest`;
   * refused while it runs, here (its runner would undo the reset) or in
   * another live process. A damaged cursor file is written anew (whoever ran
   * the consumer cannot be told from it; the new file is whole).
   */
  reset(name: string, to: StartFrom): CursorState {
    const current = this.getUnlessDamaged(name);
    refuseIfRunningHere(this.journal.dir, name);
    if (current) refuseIfRunningElsewhere(current);
    const cursor = this.resolvePosition(name, to);
    const was = current?.state ?? 'stopped';
    const next: CursorState = { name, cursor, committedAt: this.now().toISOString(), state: was === 'running' || was === 'failed' ? 'stopped' : was };
    this.store.write(next);
    return this.recheckAgainstCleanup(next, to, current);
  }

  /** Removes a consumer (its cursor file, damaged or not); refused while it runs, here or elsewhere. */
  delete(name: string): void {
    const current = this.getUnlessDamaged(name);
    refuseIfRunningHere(this.journal.dir, name);
    if (current) refuseIfRunningElsewhere(current);
    this.store.remove(name);
    if (this.autoCleanup) this.cleanup();
  }

  /**
   * For a layer that repairs a damaged cursor file (reset or delete) the
   * moment the registry is built: takes over the open check's warning about
   * it, which waits until the end of the turn, so that the caller's own
   * warning (what it did) is the only one. Undefined when none is held.
   */
  takeDamageReport(name: string): CorruptCursorError | undefined {
    return this.damageReports.take(name);
  }

  /** The consumer's state; undefined when its cursor file is damaged; ConsumerNotFoundError when it has none. */
  private getUnlessDamaged(name: string): CursorState | undefined {
    try {
      return this.get(name);
    } catch (err) {
      if (err instanceof CorruptCursorError) return undefined;
      throw err;
    }
  }

  /**
   * The lowest durable cursor of all registered consumers (undefined with
   * none): for each, its last commit known to be on disk, which may be one
   * commit behind the cursor `list()` shows (a commit in flight in another
   * process is already visible there, and a power loss could take it back).
   */
  lowestCursor(): number | undefined {
    let lowest: number | undefined;
    for (const name of this.store.names()) {
      const cursor = this.store.readFloor(name); // a damaged cursor file throws: never guess a position
      if (cursor === undefined) continue; // deleted meanwhile
      if (lowest === undefined || cursor < lowest) lowest = cursor;
    }
    return lowest;
  }

  /**
   * Deletes the sealed segments that every registered consumer has passed.
   * With no consumer nothing is deleted; a lagging or failed one holds the log.
   */
  cleanup(): string[] {
    const journal = this.journal;
    if (isReader(journal)) return [];
    let lowest: number | undefined;
    try {
      lowest = this.lowestCursor();
    } catch (err) {
      if (isConsumerError(err)) {
        if (err.message !== this.cleanupSkippedFor) this.logger.warn(`cleanup skipped: ${err.message}`);
        this.cleanupSkippedFor = err.message;
        return [];
      }
      throw err;
    }
    this.cleanupSkippedFor = undefined;
    if (lowest === undefined) return [];
    const deleted = journal.deleteBelow(lowest);
    if (deleted.length > 0) {
      this.logger.info?.(`cleanup: deleted ${deleted.length} segment(s) below offset ${lowest}`);
      this.clampStrandedAfterCleanup();
    }
    return deleted;
  }

  /** Throws unless `cursor` is a record boundary within [earliest, head]. */
  validateCursor(name: string, cursor: unknown): number {
    if (typeof cursor !== 'number' || !Number.isSafeInteger(cursor) || cursor < 0) {
      throw new InvalidCursorError(name, cursor, 'an offset is a non-negative integer');
    }
    const segments = this.journal.segmentList(); // refreshes a read-only view: earliest and head are current
    const { earliest, head } = this.journal;
    const gone = (): InvalidCursorError =>
      new InvalidCursorError(name, cursor, `below the earliest retained offset ${this.journal.earliest} (cleanup deleted those records)`);
    if (cursor < earliest) throw gone();
    if (cursor > head) throw new InvalidCursorError(name, cursor, `beyond the head ${head}`);
    if (cursor === head) return cursor;
    let boundary: boolean;
    try {
      boundary = this.boundaries.isBoundary(cursor, segments);
    } catch (err) {
      // the segment was deleted while it was walked (a cleanup in the writer's process)
      if (isWalError(err, WalErrorCodes.OffsetOutOfRange)) throw gone();
      throw err;
    }
    if (!boundary) throw new InvalidCursorError(name, cursor, 'not the start of a record');
    this.boundaries.remember(name, cursor);
    return cursor;
  }

  private writeCommit(current: CursorState, cursor: number, patch: CommitPatch): CursorState {
    const next = this.nextState(current, cursor, patch);
    this.store.write(next);
    this.afterCommit(current, cursor);
    return next;
  }

  private nextState(current: CursorState, cursor: number, patch: CommitPatch): CursorState {
    const next: CursorState = { ...current, ...patch, cursor, committedAt: this.now().toISOString() };
    if (next.state !== 'failed') delete next.error;
    if (next.state !== 'running') delete next.pid;
    return next;
  }

  /**
   * Cleanup after a cursor moved, unless it cannot free anything: the lowest
   * cursor is at most this one, so below the end of the oldest segment no
   * segment is wholly passed. Most commits stop there, without reading every
   * cursor file. A closed journal (the app shutting down under a runner)
   * skips it: the cursor files are apart from the journal, and the commit stands.
   */
  private afterCommit(current: CursorState, cursor: number): void {
    if (!this.autoCleanup || cursor === current.cursor || isReader(this.journal)) return;
    let segments: Array<{ base: number }>;
    try {
      segments = this.journal.segmentList();
    } catch (err) {
      if (isWalError(err, WalErrorCodes.Closed)) return;
      throw err;
    }
    if (segments.length < 2 || cursor < segments[1]!.base) return;
    this.cleanup();
  }

  private resolvePosition(name: string, to: StartFrom): number {
    checkStartFrom(to);
    if (to === 'earliest' || to === 'latest') {
      // a read-only view may be behind the writer's cleanup: refresh before reading earliest
      this.journal.segmentList();
      return this.validateCursor(name, to === 'earliest' ? this.journal.earliest : this.journal.head);
    }
    return this.validateCursor(name, to);
  }

  /**
   * A cleanup in another process (the writer) may have read the cursors just
   * before `state` was written and deleted the segments it points into just
   * after. Checked here once the cursor file is durable: if the records are
   * gone, `earliest`/`latest` move to the new earliest (what was asked for,
   * reported), and an explicit offset is refused after restoring `previous`.
   * The writer checks again after each cleanup that deleted something
   * (clampStrandedAfterCleanup), which covers a deletion that lands after
   * this check. What remains: the two processes may both rewrite the same
   * cursor file at that moment, and the last write wins.
   */
  private recheckAgainstCleanup(state: CursorState, requested: StartFrom, previous: CursorState | undefined): CursorState {
    this.refreshView();
    const earliest = this.journal.earliest;
    if (state.cursor >= earliest) return state;
    if (requested === 'earliest' || requested === 'latest') {
      const moved: CursorState = { ...state, cursor: earliest, committedAt: this.now().toISOString() };
      this.store.write(moved);
      this.logger.warn(
        `consumer "${state.name}": a concurrent cleanup deleted the records below ${earliest} while it was being positioned at ${state.cursor}; ` +
          `it starts at ${earliest}, the earliest retained offset`,
      );
      return moved;
    }
    if (previous) this.store.write(previous);
    else this.store.remove(state.name);
    throw new InvalidCursorError(state.name, state.cursor, `below the earliest retained offset ${earliest} (a concurrent cleanup deleted those records)`);
  }

  /**
   * After deleting segments: a consumer registered or reset in another
   * process while this cleanup ran may point below what is left. Its records
   * are gone; clamp it to the earliest retained offset and say so loudly.
   */
  private clampStrandedAfterCleanup(): void {
    const earliest = this.journal.earliest;
    for (const name of this.store.names()) {
      let state: CursorState;
      try {
        state = this.get(name);
      } catch (err) {
        if (isConsumerError(err)) continue;
        throw err;
      }
      if (state.cursor >= earliest) continue;
      const message =
        `consumer "${name}": stored cursor ${state.cursor} ${describe('below-earliest')}: ` +
        `it was positioned while a cleanup ran; clamped to ${earliest}`;
      this.store.write({ ...state, cursor: earliest, committedAt: this.now().toISOString() });
      this.clamped.push({ name, storedCursor: state.cursor, clampedTo: earliest, reason: 'below-earliest', message });
      this.logger.warn(message);
    }
  }

  /** Housekeeping only: a failure is reported, not fatal. */
  private removeStaleTempFiles(): void {
    try {
      const removed = this.store.removeStaleTempFiles();
      if (removed.length > 0) this.logger.info?.(`removed ${removed.length} temp file(s) left by crashed cursor commits`);
    } catch (err) {
      this.logger.warn(`could not remove stale cursor temp files: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Read-only journals: re-list the segments so that earliest and head are current (writers are always current). */
  private refreshView(): void {
    this.journal.refresh();
  }

  /**
   * Recovery may have cut records a consumer already processed (a torn tail
   * after a crash). Its cursor then points beyond the log, or into records
   * written since: clamp it to where the log was cut, and say so loudly.
   * Runs on the first registry of a journal instance only (checkedJournals).
   *
   * Left open: a cursor written by another process (the CLI, read-only)
   * between this journal's open and its first registry is clamped like a
   * stale one if it lies beyond the cut; telling them apart needs the time
   * the journal was opened, which @episteme/wal does not expose yet.
   */
  private clampAfterRecovery(): void {
    this.refreshView();
    const { earliest, head } = this.journal;
    const cutAt = this.journal.truncatedAt;
    const states: CursorState[] = [];
    for (const name of this.store.names()) {
      try {
        states.push(this.get(name));
      } catch (err) {
        if (err instanceof CorruptCursorError) {
          this.damageReports.hold(name, err);
          continue;
        }
        throw err;
      }
    }
    // in offset order, so that each walk starts where the previous one ended: one pass per segment
    const decisions = new Map<string, [number, CursorClampEvent['reason']]>();
    for (const state of [...states].sort((a, b) => a.cursor - b.cursor)) {
      if (cutAt !== undefined && state.cursor > cutAt) decisions.set(state.name, [cutAt, 'cut-by-recovery']);
      else if (state.cursor > head) decisions.set(state.name, [head, 'beyond-head']);
      else if (state.cursor < earliest) decisions.set(state.name, [earliest, 'below-earliest']);
      else if (state.cursor !== head) {
        const boundary = this.boundaries.atOrBefore(state.cursor);
        if (boundary >= 0) this.boundaries.remember(state.name, boundary);
        if (boundary !== state.cursor) decisions.set(state.name, [boundary, 'not-a-boundary']);
      }
    }
    for (const state of states) {
      const decision = decisions.get(state.name);
      if (!decision) continue;
      const [clampedTo, reason] = decision;
      const message =
        `consumer "${state.name}": stored cursor ${state.cursor} ${describe(reason)}; ` +
        `clamped to ${clampedTo}` + (isReader(this.journal) ? ' (in memory only: the journal is read-only)' : '');
      this.clamped.push({ name: state.name, storedCursor: state.cursor, clampedTo, reason, message });
      this.logger.warn(message);
      if (!isReader(this.journal)) this.store.write({ ...state, cursor: clampedTo, committedAt: this.now().toISOString() });
    }
  }
}
