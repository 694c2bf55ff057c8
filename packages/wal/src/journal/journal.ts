import { join } from 'node:path';
import { ClosedError, FailedStateError, InvalidArgumentError, NotAJournalError, ioError, isWalError } from '../errors.js';
import { refuseForeignDirectory } from './foreignFiles.js';
import { HEADER_SIZE } from '../format/constants.js';
import { segmentName } from '../format/segmentName.js';
import { ensureDirectory } from '../io/directories.js';
import { codeOf, hasErrno } from '../shared/errno.js';
import { recoverJournal } from '../recovery/recover.js';
import { archivedRun, moveToArchive } from '../archive/archive.js';
import { loadRecoveryPoint, updateRecoveryPoint, withdrawMarks, type CleanClose, type SyncedPrefix } from '../recovery/recoveryPoint.js';
import type { RecoveryReport } from '../recovery/report.js';
import { ActiveSegment, preallocationOf } from './activeSegment.js';
import { ChangeNotifier } from './changeNotifier.js';
import { PublishedHead } from './publishedHead.js';
import { JournalBase } from './journalBase.js';
import { JournalReader } from './journalReader.js';
import { JournalWriter } from './journalWriter.js';
import { BoundaryCache } from './knownBoundaries.js';
import type { Appended } from '../log/appended.js';
import type { Retention } from '../log/logReader.js';
import { resolveOptions, type Durability, type JournalOptions, type JournalReaderOptions, type ResolvedOptions } from './options.js';
import { SegmentManager } from './segmentManager.js';
import { TAIL_CHECK_SLICE, checkTailInBackground, type TailCheck } from './tailCheck.js';
import { WriterLock } from './writerLock.js';

export interface AppendOptions {
  /** Overrides the journal's durability for this append. */
  durability?: Durability;
}

/**
 * The records the active segment holds as the journal opens, as its synced
 * prefix (none for an empty segment). Synced first: recovery may have kept
 * records that a killed writer had written but not synced, and a sync that
 * fails here fails the open, like any failed sync (they may be gone from the
 * page cache; appending after them would bury the gap under new records).
 */
function syncedPrefixOf(active: ActiveSegment): SyncedPrefix | undefined {
  if (active.isEmpty) return undefined;
  try {
    active.sync();
  } catch (err) {
    throw ioError('syncing the records recovery kept in', active.path, err);
  }
  return { base: active.base, size: active.writePos, crc: active.contentCrc(), last: active.lastRecord() };
}

/**
 * The event log's writer: durable appends at global offsets, reads by
 * offset, tailing, retention. One writer per directory (across processes);
 * any number of readers in other processes (`Journal.openForRead`).
 */
export class Journal extends JournalBase implements Retention {
  /**
   * Set while the clean-close check of the last segment runs in the
   * background: every write waits for it (see startTailCheck).
   */
  private tailGate: Promise<void> | undefined;
  private tailCheck: TailCheck | undefined;
  /** Something waits behind the check: close lets it finish instead of cancelling it. */
  private tailAwaited = false;

  private constructor(
    private readonly options: ResolvedOptions,
    segments: SegmentManager,
    changes: ChangeNotifier,
    private readonly writer: JournalWriter,
    private readonly lock: WriterLock,
    /** What recovery found and did on open. */
    readonly recovery: RecoveryReport,
    /** The head as readers in other processes may see it. */
    private readonly published: PublishedHead,
  ) {
    super({ dir: options.dir, io: options.io, maxPayloadBytes: options.maxPayloadBytes, verifyOnRead: options.verifyOnRead, segments, changes, known: new BoundaryCache(), telemetry: options.telemetry });
  }

  /**
   * Opens (creating when absent) a journal directory as its writer: takes
   * the directory's lock and runs recovery. After a clean close the last
   * segment is trusted on its size and checked in the background; writes
   * wait for that check (see startTailCheck).
   */
  static async open(options: JournalOptions): Promise<Journal> {
    const o = resolveOptions(options);
    const segments = new SegmentManager(o.io, o.dir);
    try {
      ensureDirectory(o.io, o.dir);
      refuseForeignDirectory(o.io, o.dir);
    } catch (err) {
      if (isWalError(err)) throw err;
      throw new NotAJournalError(o.dir, `cannot create or reach it (${codeOf(err) ?? String(err)})`, { cause: err });
    }
    const lock = await WriterLock.acquire(o.io, o.dir);
    let published: PublishedHead | undefined;
    let active: ActiveSegment | undefined;
    try {
      const point = loadRecoveryPoint(o.io, o.dir, o.maxPayloadBytes);
      const report = recoverJournal(o.dir, {
        maxPayloadBytes: o.maxPayloadBytes,
        repair: o.repair,
        scanSealed: o.scanSealedOnOpen !== false,
        ...(o.scanSealedOnOpen === 'unverified' ? { trusted: point.sealed, closed: point.closed, prefix: point.prefix, deferClosedCrcAbove: TAIL_CHECK_SLICE } : {}),
        io: o.io,
      });
      segments.reset(report.segments.map((s) => s.base));
      const last = segments.last;
      const prealloc = preallocationOf(o);
      if (last) {
        // the CRC recovery computed on the way (up to the head): the writer carries it on
        const size = HEADER_SIZE + report.head - last.base;
        const known = report.lastSegmentCrc32c !== undefined ? { size, crc: report.lastSegmentCrc32c } : undefined;
        active = ActiveSegment.open(o.io, o.dir, last.base, size, prealloc, known, report.lastSegmentLastRecord);
      } else {
        active = ActiveSegment.create(o.io, o.dir, report.head, prealloc);
        segments.add(report.head);
      }
      const archive = o.archiveDir === undefined ? undefined : archivedRun(o.io, o.archiveDir, segments.first!.base);
      if (archive) segments.prependArchived(archive.segments);
      const changes = new ChangeNotifier();
      let journal: Journal | undefined;
      const head = PublishedHead.open(o.io, o.dir, report.head);
      published = head;
      const writer = new JournalWriter(o, segments, active, report.head, (at, synced) => {
        journal!.headOffset = at;
        head.publish(at, synced);
        changes.notify();
      });
      journal = new Journal(o, segments, changes, writer, lock, report, head);
      journal.headOffset = report.head;
      journal.missing = archive?.missing;
      o.telemetry?.recovered(report);
      // after a clean close: the rest of the check, and the mark's
      // withdrawal, happen before the first write, not here
      if (report.lastSegmentTrusted && point.closed) {
        journal.startTailCheck(point.closed, report.lastSegmentCheckDeferred === true);
        return journal;
      }
      // every sealed segment is now known good: the next open need not rescan
      // it; the previous writer's clean-close mark and synced prefix go before
      // anything is written (and if they cannot, the journal does not open):
      // recovery may have cut below them, and readers trust them by their
      // last record (docs/readers.md, Refresh)
      const sealed = o.scanSealedOnOpen !== false ? segments.sealedSizes() : point.sealed;
      const prefix = o.scanSealedOnOpen === 'unverified' ? syncedPrefixOf(active) : undefined;
      if (point.marked || point.prefixed) withdrawMarks(o.io, o.dir, sealed, o.maxPayloadBytes, prefix);
      else if (o.scanSealedOnOpen !== false) updateRecoveryPoint(o.io, o.dir, sealed, o.maxPayloadBytes, undefined, prefix);
      return journal;
    } catch (err) {
      published?.close();
      active?.close();
      segments.closeAll();
      lock.release();
      throw isWalError(err) ? err : ioError('opening journal', o.dir, err);
    }
  }

  /**
   * Opens a journal directory that a writer in another process owns, to
   * read it: no lock, no recovery, never changes a file. See JournalReader.
   */
  static openForRead(options: JournalReaderOptions): Promise<JournalReader> {
    return JournalReader.open(options);
  }

  /** With an archive that does not reach back to offset 0: where its history stops, and the missing file when known. */
  private missing: { below: number; file: string | undefined } | undefined;

  /** Where cleanup moves segments (JournalOptions.archiveDir), or undefined: it deletes them. */
  get archiveDir(): string | undefined {
    return this.options.archiveDir;
  }

  /** LogReader: the archive file missing below `earliest` (a rebuild from offset 0 names it), when one is known to be. */
  get missingHistory(): string | undefined {
    return this.missing && (this.missing.file ?? `${this.options.archiveDir} holds nothing below offset ${this.missing.below}`);
  }

  /** Where recovery cut the log on open (the first cut's offset), or undefined when it cut nothing. */
  get truncatedAt(): number | undefined {
    return this.recovery.cuts[0]?.offset;
  }

  /**
   * Appends one record; resolves, once it is as durable as asked, to where
   * it went and its content address (no read back).
   */
  append(payload: Uint8Array, options?: AppendOptions): Promise<Appended> {
    // not an async function: one promise per append, not two (the hot path of group commit)
    const durability = this.durabilityOf(options);
    if (typeof durability !== 'string') return durability;
    const track = this.options.telemetry?.startAppend('append', 1, payload?.length ?? 0);
    const appended = this.tailGate ? this.afterTailCheck(() => this.writer.appendOne(payload, durability)) : this.writer.appendOne(payload, durability);
    return track ? track.done(appended) : appended;
  }

  /** Appends several records with one write and one sync; resolves to where each went. */
  async appendBatch(payloads: Uint8Array[], options?: AppendOptions): Promise<Appended[]> {
    if (!Array.isArray(payloads)) throw new InvalidArgumentError('appendBatch takes an array of payloads');
    // an empty batch writes nothing, but is refused where any append is (a closed journal)
    if (this.closed) throw new ClosedError();
    if (payloads.length === 0) return [];
    const durability = this.durabilityOf(options);
    if (typeof durability !== 'string') return durability;
    const track = this.options.telemetry?.startAppend('appendBatch', payloads.length, payloads.reduce((n, p) => n + (p?.length ?? 0), 0));
    const appended = this.tailGate ? this.afterTailCheck(() => this.writer.appendBatch(payloads, durability)) : this.writer.appendBatch(payloads, durability);
    return track ? track.done(appended) : appended;
  }

  /** Makes every resolved append durable (for `none`). */
  async sync(): Promise<void> {
    this.checkOpen();
    if (this.tailGate) await this.afterTailCheck(() => this.writer.sync());
    else await this.writer.sync();
  }

  /** LogReader: the writer makes its resolved appends durable (`sync()`). */
  makeDurable(): Promise<void> {
    return this.sync();
  }

  /**
   * Deletes the sealed segments whose every record is below `offset` (never
   * the active one), oldest first, then syncs the directory. Returns the
   * deleted file names. A segment leaves the list only once its file is
   * gone, so after a failure (a typed error) the list still matches the
   * directory and a later call resumes where this one stopped.
   */
  deleteBelow(offset: number): string[] {
    this.checkOpen();
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`an offset must be a non-negative safe integer, not ${String(offset)}`);
    }
    const { io, dir, archiveDir } = this.options;
    if (archiveDir !== undefined) return this.archiveBelow(offset, archiveDir);
    const deleted: string[] = [];
    let failure: unknown;
    for (const seg of this.segments.below(Math.min(offset, this.headOffset))) {
      try {
        io.unlink(seg.path);
      } catch (err) {
        if (!hasErrno(err, 'ENOENT')) {
          failure = ioError('deleting segment', seg.path, err);
          break;
        }
      }
      this.segments.removeFirst();
      deleted.push(seg.name);
    }
    if (deleted.length > 0) {
      try {
        io.syncDir(dir);
      } catch (err) {
        // the files are gone from the list either way; a deletion that a
        // power loss takes back only brings back records below every cursor
        failure ??= ioError('syncing directory after deleting segments of', dir, err);
      }
    }
    if (failure !== undefined) throw failure;
    return deleted;
  }
  /** Cleanup with an archive: the segments move there and stay readable (their descriptors survive a rename). */
  private archiveBelow(offset: number, archiveDir: string): string[] {
    const moved: string[] = [];
    for (const seg of this.segments.below(Math.min(offset, this.headOffset))) {
      if (seg.archived) continue;
      seg.path = moveToArchive(this.options.io, seg.path, seg.name, this.options.dir, archiveDir);
      seg.archived = true;
      moved.push(seg.name);
    }
    return moved;
  }


  /**
   * Waits for pending appends, syncs, releases the lock. Idempotent (see
   * JournalBase.close): the lock is released once everything else is.
   */
  protected async release(): Promise<void> {
    try {
      if (this.tailGate) {
        // nothing waits to be written: the file stays as closed, and so may the mark
        if (!this.tailAwaited) this.tailCheck!.cancel();
        await this.tailGate.catch(() => undefined);
      }
      await this.writer.close();
    } finally {
      this.published.close();
      this.closeFiles();
      this.lock.release();
    }
  }

  /** The writer's view is always current: nothing to re-read. */
  protected refreshView(): boolean {
    return false;
  }

  /**
   * The open trusted the clean-close mark on the last segment's size alone
   * (`recovery.lastSegmentCheckDeferred`; a segment of one slice or less it
   * checked itself): check its CRC32C now, in the background, and hold
   * every write until the check has passed and the mark is withdrawn, as
   * the open used to before it returned. A file that changed since the
   * close fails the journal (FailedStateError: nothing is
   * written) and loses its mark, so that the reopen scans the segment and
   * cuts the damage as an open always did. A journal closed with nothing
   * waiting cancels the check and leaves the mark as it found it.
   */
  private startTailCheck(mark: CleanClose, deferred: boolean): void {
    const { io, dir, maxPayloadBytes } = this.options;
    const path = join(dir, segmentName(mark.base));
    // a segment of one slice or less was checked by the open: only the withdrawal is left
    const check = checkTailInBackground(io, path, mark, !deferred);
    const gate = check.outcome.then(
      (outcome) => {
        if (outcome === 'cancelled') return;
        if (outcome === 'changed') {
          throw new Error(`the last segment ${path} changed since its clean close (size or CRC32C differ from the mark); reopen the journal to scan it`);
        }
        // what the open used to do before returning; the prefix needs no sync: the close synced it
        const prefix = mark.size > HEADER_SIZE ? { ...mark } : undefined;
        withdrawMarks(io, dir, this.segments.sealedSizes(), maxPayloadBytes, prefix);
      },
    ).catch((err: unknown) => {
      this.writer.fail(err, []);
      try {
        withdrawMarks(io, dir, this.segments.sealedSizes(), maxPayloadBytes);
      } catch {
        // the mark stays: the next open checks the file again and fails the same way
      }
      throw new FailedStateError(err);
    });
    // first reaction on the gate: appends made from now on go straight to
    // the writer, after the ones that waited (their reactions come next)
    gate.then(
      () => (this.tailGate = undefined),
      () => (this.tailGate = undefined),
    );
    this.tailGate = gate;
    this.tailCheck = check;
  }

  private afterTailCheck<T>(write: () => Promise<T>): Promise<T> {
    this.tailAwaited = true;
    return this.tailGate!.then(write);
  }

  /** The durability of an append, or the rejection it gets (closed, or a durability that is neither). */
  private durabilityOf(options: AppendOptions | undefined): Durability | Promise<never> {
    if (this.closed) return Promise.reject(new ClosedError());
    const durability = options?.durability ?? this.options.durability;
    if (durability !== 'immediate' && durability !== 'none') {
      return Promise.reject(new InvalidArgumentError(`durability must be 'immediate' or 'none'`));
    }
    return durability;
  }
}
