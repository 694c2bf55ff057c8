import { isWalError, Journal, JournalReader, WalErrorCodes, type CursorState, type CursorStore, type LogReader, type Retention } from '@episteme/wal';
import { describeClampReason as describe, type CursorClampEvent } from './clampEvents.js';
import { validateConsumerName } from './consumerName.js';
import { DamagedCursorReports } from './damageReports.js';
import { ConsumerNotFoundError, CorruptCursorError, CursorBackwardsError, InvalidConsumerArgumentError, InvalidCursorError, isConsumerError } from './errors.js';
import { FileCursorStore } from './fileCursorStore.js';
import { CleanupChecks, lowestFloor } from './cleanupChecks.js';
import { checkParts, checkRegistryOptions, type ConsumerInfo, type JournalRegistryOptions, type Logger, type RegistryOptions, type RegistryParts } from './registryParts.js';
import { effectiveState, refuseIfRunningElsewhere, refuseIfRunningHere } from './running.js';
import { checkRegisterOptions, checkStartFrom, type StartFrom } from './startFrom.js';
import { storeRegistryParts, type StoreRegistryOptions } from './events/storeRegistry.js';
import type { LocalEventStore } from '@episteme/store';

export type { ConsumerInfo, JournalRegistryOptions, Logger, RegistryOptions, RegistryParts } from './registryParts.js';

const defaultLogger: Logger = { warn: (m) => console.warn(m) };

type CommitPatch = Partial<Pick<CursorState, 'state' | 'error' | 'pid'>>;

/**
 * Log handles whose stored cursors were already checked against the
 * recovered log. The check belongs to the log's open, not to each registry:
 * run again later, it would take cursors committed since then for stale
 * ones (a cursor beyond the recovery cut is, by then, simply further along).
 */
const checkedLogs = new WeakSet<LogReader>();

/**
 * Internal to the package (the runner): commits a position the runner got
 * as the `next` of a record it read from the log, which is a record
 * boundary by construction, so the boundary check is skipped.
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
 * The consumers of one log: their durable cursors, administration
 * (register, list, reset, delete) and the cleanup the lowest cursor allows.
 * The cursor store is the truth, so several processes (an app and the CLI)
 * see the same registry. Over any log with explicit parts:
 * `new ConsumerRegistry({ log, cursors, retention })`; over a journal,
 * with cursor files in its directory: `ConsumerRegistry.forJournal`.
 */
export class ConsumerRegistry {
  readonly log: LogReader;
  readonly store: CursorStore;
  /** Present on the writer's registry only: what lets it delete (see RegistryParts). */
  readonly retention: Retention | undefined;
  /**
   * Cursors that did not fit the log and were clamped: on the log's first
   * registry (after recovery), or after a cleanup that raced a registration
   * in another process.
   */
  readonly clamped: CursorClampEvent[] = [];
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly autoCleanup: boolean;
  private readonly damageReports: DamagedCursorReports;
  /** Cleanup runs after most commits: while one cause holds it back, it is warned about once, not on every commit. */
  private cleanupSkippedFor: string | undefined;
  private readonly cleanupChecks = new CleanupChecks();

  constructor(parts: RegistryParts, options: RegistryOptions = {}) {
    checkRegistryOptions('new ConsumerRegistry', options, false);
    const { log, cursors, retention } = checkParts(parts);
    this.log = log;
    this.store = cursors;
    this.retention = retention;
    this.logger = options.logger ?? defaultLogger;
    this.now = options.now ?? (() => new Date());
    this.autoCleanup = options.autoCleanup !== false;
    this.damageReports = new DamagedCursorReports((m, about) => this.logger.warn(m, about));
    if (!checkedLogs.has(log)) {
      this.clampAfterRecovery();
      checkedLogs.add(log);
    }
  }

  /**
   * The registry of a journal, with its cursor files in `<journal>/consumers/`.
   * Over the writer (`Journal.open`): it deletes through the journal's
   * Retention, and the cursor files are synced and tidied first
   * (FileCursorStore.ofWriter). Over a reader (`Journal.openForRead`, in
   * another process): it administers cursors but deletes nothing.
   */
  static forJournal(journal: Journal | JournalReader, options: JournalRegistryOptions = {}): ConsumerRegistry {
    // before the cursor files are tidied: a refused call changes nothing
    checkRegistryOptions('ConsumerRegistry.forJournal', options, true);
    const { io, ...rest } = options;
    if (journal instanceof Journal) {
      const cursors = FileCursorStore.ofWriter(journal, io, rest.logger ?? defaultLogger);
      return new ConsumerRegistry({ log: journal, cursors, retention: journal }, rest);
    }
    if (!(journal instanceof JournalReader)) {
      throw new InvalidConsumerArgumentError('ConsumerRegistry.forJournal takes a journal (Journal.open or Journal.openForRead); over another log, use new ConsumerRegistry({ log, cursors, retention })');
    }
    return new ConsumerRegistry({ log: journal, cursors: new FileCursorStore(journal.dir, io) }, rest);
  }

  /**
   * The registry of an event store's consumers (run them with
   * `runEventConsumer`): over `store.log`, with cursor files in
   * `<store dir>/consumers/`. Cleanup is not supported under a store (the
   * stream index points into every segment): `cleanup()` deletes nothing and
   * says so through the logger, and `autoCleanup` is refused.
   */
  static forStore(store: LocalEventStore, options: StoreRegistryOptions = {}): ConsumerRegistry {
    const { parts, options: registryOptions } = storeRegistryParts(store, options);
    return new ConsumerRegistry(parts, registryOptions);
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
    this.log.refresh();
    const head = this.log.head;
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
        lagRecords = this.log.countRecords(state.cursor, head);
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
    return this.writeCommit(this.checkHandled(name, cursor, this.store.read(validateConsumerName(name))), cursor, patch);
  }

  /** See `commitHandledAsync`. */
  async [commitHandledAsync](name: string, cursor: number): Promise<CursorState> {
    let current: CursorState | undefined;
    const nextOf = (stored: CursorState | undefined): CursorState => {
      current = this.checkHandled(name, cursor, stored);
      return this.nextState(current, cursor, {});
    };
    let next: CursorState;
    if (this.store.updateAsync) {
      next = await this.store.updateAsync(validateConsumerName(name), nextOf);
    } else {
      next = nextOf(this.store.read(validateConsumerName(name)));
      await this.store.writeAsync(next);
    }
    this.afterCommit(current!, cursor, true);
    return next;
  }

  /** The stored state, once checked that `cursor` may follow it (ConsumerNotFoundError when none is stored). */
  private checkHandled(name: string, cursor: number, current: CursorState | undefined): CursorState {
    if (!current) throw new ConsumerNotFoundError(name);
    if (cursor < current.cursor) throw new CursorBackwardsError(name, current.cursor, cursor);
    if (cursor !== current.cursor) {
      const { earliest, head } = this.log;
      if (!Number.isSafeInteger(cursor) || cursor < earliest || cursor > head) {
        throw new InvalidCursorError(name, cursor, `outside [${earliest}, ${head}]`);
      }
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
    refuseIfRunningHere(this.log.location, name);
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
    refuseIfRunningHere(this.log.location, name);
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
    return lowestFloor(this.store)?.cursor;
  }

  /**
   * Deletes what every registered consumer has passed (the journal: whole
   * sealed segments), through the Retention; returns what it deleted. With
   * no consumer nothing is deleted; a lagging or failed one holds the log.
   * A registry without a Retention (a reader's) deletes nothing.
   */
  cleanup(): string[] {
    if (!this.retention) return [];
    let lowest: number | undefined;
    try {
      const found = lowestFloor(this.store);
      lowest = found?.cursor;
      this.cleanupChecks.looked(found?.name);
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
    const deleted = this.retention.deleteBelow(lowest);
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
    this.log.refresh(); // a reader's view: earliest and head are current
    const { earliest, head } = this.log;
    const gone = (): InvalidCursorError =>
      new InvalidCursorError(name, cursor, `below the earliest retained offset ${this.log.earliest} (cleanup deleted those records)`);
    if (cursor < earliest) throw gone();
    if (cursor > head) throw new InvalidCursorError(name, cursor, `beyond the head ${head}`);
    if (cursor === head) return cursor;
    let boundary: number;
    try {
      boundary = this.log.boundaryAtOrBefore(cursor);
    } catch (err) {
      // deleted while it was walked (a cleanup in the writer's process)
      if (isWalError(err, WalErrorCodes.OffsetOutOfRange)) throw gone();
      throw err;
    }
    if (boundary < 0) throw gone();
    if (boundary !== cursor) throw new InvalidCursorError(name, cursor, 'not the start of a record');
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
   * cursor is at most this one, so at or below the earliest retained
   * position nothing is passed. Otherwise every consumer's floor is read (a
   * small read per consumer, beside the commit's sync): where the log's
   * units of deletion end is the log's business, not the registry's. A
   * closed log (the app shutting down under a runner) skips it: the cursors
   * are apart from the log, and the commit stands. A run's commit may skip
   * it while another consumer held the log a moment ago (CleanupChecks).
   */
  private afterCommit(current: CursorState, cursor: number, duringRun = false): void {
    if (!this.autoCleanup || !this.retention || cursor === current.cursor || cursor <= this.log.earliest) return;
    if (duringRun && this.cleanupChecks.maySkip(current.name)) return;
    try {
      this.cleanup();
    } catch (err) {
      if (isWalError(err, WalErrorCodes.Closed)) return;
      throw err;
    }
  }

  private resolvePosition(name: string, to: StartFrom): number {
    checkStartFrom(to);
    if (to === 'earliest' || to === 'latest') {
      // a reader's view may be behind the writer's cleanup: refresh before reading earliest
      this.log.refresh();
      return this.validateCursor(name, to === 'earliest' ? this.log.earliest : this.log.head);
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
    this.log.refresh();
    const earliest = this.log.earliest;
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
    const earliest = this.log.earliest;
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

  /**
   * Recovery may have cut records a consumer already processed (a torn tail
   * after a crash). Its cursor then points beyond the log, or into records
   * written since: clamp it to where the log was cut, and say so loudly.
   * Runs on the first registry of a log handle only (checkedLogs). Only the
   * writer's registry (with a Retention) rewrites the cursor; a reader's
   * reports it.
   *
   * Left open: a cursor written by another process (the CLI, a reader)
   * between this log's open and its first registry is clamped like a
   * stale one if it lies beyond the cut; telling them apart needs the time
   * the log was opened, which the log does not expose.
   */
  private clampAfterRecovery(): void {
    this.log.refresh();
    const { earliest, head } = this.log;
    const cutAt = this.log.truncatedAt;
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
        const boundary = this.log.boundaryAtOrBefore(state.cursor);
        if (boundary < 0) decisions.set(state.name, [earliest, 'below-earliest']);
        else if (boundary !== state.cursor) decisions.set(state.name, [boundary, 'not-a-boundary']);
      }
    }
    for (const state of states) {
      const decision = decisions.get(state.name);
      if (!decision) continue;
      const [clampedTo, reason] = decision;
      const message =
        `consumer "${state.name}": stored cursor ${state.cursor} ${describe(reason)}; ` +
        `clamped to ${clampedTo}` + (this.retention ? '' : " (in memory only: only the log's writer rewrites cursors)");
      this.clamped.push({ name: state.name, storedCursor: state.cursor, clampedTo, reason, message });
      this.logger.warn(message);
      if (this.retention) this.store.write({ ...state, cursor: clampedTo, committedAt: this.now().toISOString() });
    }
  }
}

