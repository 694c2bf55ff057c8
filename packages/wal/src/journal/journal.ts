import { ClosedError, InvalidArgumentError, NotAJournalError, ReadOnlyError, ioError, isWalError } from '../errors.js';
import { refuseForeignDirectory } from './foreignFiles.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { ensureDirectory } from '../io/directories.js';
import { codeOf, hasErrno } from '../shared/errno.js';
import { recoverJournal } from '../recovery/recover.js';
import { loadRecoveryPoint, updateRecoveryPoint, withdrawCleanClose, type SyncedPrefix } from '../recovery/recoveryPoint.js';
import type { RecoveryReport } from '../recovery/report.js';
import { listSegmentFiles } from '../recovery/segmentFiles.js';
import { ActiveSegment, preallocationOf } from './activeSegment.js';
import { ChangeNotifier } from './changeNotifier.js';
import { PublishedHead } from './publishedHead.js';
import { JournalReader, type JournalRecord, type LogView, type ReadFromOptions } from './journalReader.js';
import { JournalWriter } from './journalWriter.js';
import { resolveOptions, type Durability, type JournalOptions, type ResolvedOptions } from './options.js';
import { ReadOnlyView } from './readOnlyView.js';
import { SegmentManager } from './segmentManager.js';
import { WriterLock } from './writerLock.js';

/**
 * A read-only journal re-lists the segments at least this often while it
 * reads, so that a segment deleted by the writer's cleanup turns into an
 * out-of-range error instead of a read from a file that is gone.
 */
const STALE_VIEW_MS = 100;

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
  return { base: active.base, size: active.writePos, crc: active.contentCrc() };
}

/**
 * The event log: durable appends at global offsets, reads by offset, tailing.
 * One writer per directory (across processes); any number of read-only
 * journals in other processes.
 */
export class Journal {
  private closed = false;
  private closing: Promise<void> | undefined;
  private headOffset = 0;
  private readonly reader: JournalReader;
  /** Read-only journals: the view of the directory, refreshed from disk. */
  private readonly view: ReadOnlyView | undefined;
  private refreshedAt = 0;

  private constructor(
    private readonly options: ResolvedOptions,
    private readonly segments: SegmentManager,
    private readonly changes: ChangeNotifier,
    private readonly writer: JournalWriter | undefined,
    private readonly lock: WriterLock | undefined,
    /** What recovery found and did on open (writers only). */
    readonly recovery: RecoveryReport | undefined,
    /** The head as readers in other processes may see it (writers only). */
    private readonly published?: PublishedHead,
  ) {
    if (!writer) this.view = new ReadOnlyView(options.io, options.dir, options.maxPayloadBytes, segments);
    const logView: LogView = {
      earliest: () => this.earliest,
      head: () => this.headOffset,
      refresh: () => this.refresh(),
      refreshIfStale: () => {
        if (!this.writer && performance.now() - this.refreshedAt > STALE_VIEW_MS) this.refresh();
      },
      checkOpen: () => this.checkOpen(),
    };
    this.reader = new JournalReader(options.io, segments, logView, options.maxPayloadBytes, changes);
  }

  /**
   * Opens (creating when absent) a journal directory. A writer takes the
   * directory's lock and runs recovery; `readOnly` does neither and never
   * changes a file.
   */
  static async open(options: JournalOptions): Promise<Journal> {
    const o = resolveOptions(options);
    const segments = new SegmentManager(o.io, o.dir);
    if (o.readOnly) {
      // NotAJournalError when the directory is missing; one without segments is looked at once more
      if (listSegmentFiles(o.io, o.dir).length === 0) refuseForeignDirectory(o.io, o.dir, true);
      const journal = new Journal(o, segments, new ChangeNotifier(o.dir, o.pollIntervalMs), undefined, undefined, undefined);
      try {
        journal.refresh();
      } catch (err) {
        await journal.close();
        throw err;
      }
      return journal;
    }
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
        ...(o.scanSealedOnOpen === 'unverified' ? { trusted: point.sealed, closed: point.closed, prefix: point.prefix } : {}),
        io: o.io,
      });
      segments.reset(report.segments.map((s) => s.base));
      const last = segments.last;
      const prealloc = preallocationOf(o);
      if (last) {
        // the CRC recovery computed on the way (up to the head): the writer carries it on
        const size = HEADER_SIZE + report.head - last.base;
        const known = report.lastSegmentCrc32c !== undefined ? { size, crc: report.lastSegmentCrc32c } : undefined;
        active = ActiveSegment.open(o.io, o.dir, last.base, size, prealloc, known);
      } else {
        active = ActiveSegment.create(o.io, o.dir, report.head, prealloc);
        segments.add(report.head);
      }
      const changes = new ChangeNotifier();
      let journal: Journal | undefined;
      published = PublishedHead.open(o.io, o.dir, report.head);
      const writer = new JournalWriter(o, segments, active, report.head, (head, synced) => {
        journal!.headOffset = head;
        published!.publish(head, synced);
        changes.notify();
      });
      journal = new Journal(o, segments, changes, writer, lock, report, published);
      journal.headOffset = report.head;
      // every sealed segment is now known good: the next open need not rescan
      // it; a clean-close mark goes before anything is written (and if it
      // cannot, the journal does not open)
      const sealed = o.scanSealedOnOpen !== false ? segments.sealedSizes() : point.sealed;
      const prefix = o.scanSealedOnOpen === 'unverified' ? syncedPrefixOf(active) : undefined;
      if (point.marked) withdrawCleanClose(o.io, o.dir, sealed, o.maxPayloadBytes, prefix);
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

  /** Offset where the next record will be written (readers: the last one seen + 1). */
  get head(): number {
    return this.headOffset;
  }

  /** The segment files, oldest first: name and base offset. */
  segmentList(): Array<{ name: string; base: number }> {
    this.checkOpen();
    if (!this.writer) this.refresh();
    return this.segments.segments.map((s) => ({ name: s.name, base: s.base }));
  }

  /** Offset of the first retained record. */
  get earliest(): number {
    return this.segments.first?.base ?? this.headOffset;
  }

  get readOnly(): boolean {
    return this.options.readOnly;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Appends one record; resolves to its offset once it is as durable as asked. */
  append(payload: Uint8Array, options: AppendOptions = {}): Promise<number> {
    // not an async function: one promise per append, not two (the hot path of group commit)
    return this.appendMany([payload], options);
  }

  /** Appends several records with one write and one sync; resolves to their offsets. */
  async appendBatch(payloads: Uint8Array[], options: AppendOptions = {}): Promise<number[]> {
    if (!Array.isArray(payloads)) throw new InvalidArgumentError('appendBatch takes an array of payloads');
    // an empty batch writes nothing, but is refused where any append is (a closed or read-only journal)
    if (this.closed) throw new ClosedError();
    if (!this.writer) throw new ReadOnlyError('appendBatch');
    if (payloads.length === 0) return [];
    let offset = await this.appendMany(payloads, options);
    return payloads.map((p) => {
      const at = offset;
      offset += RECORD_OVERHEAD + p.length;
      return at;
    });
  }

  /** The record at `offset`, or undefined at the head. */
  read(offset: number): JournalRecord | undefined {
    return this.reader.read(offset);
  }

  /** Records from `offset` in order; with `follow`, waits at the head until `signal` aborts. */
  readFrom(offset: number, options: ReadFromOptions = {}): AsyncGenerator<JournalRecord, void, undefined> {
    return this.reader.readFrom(offset, options);
  }

  /** Up to `maxRecords` records from `offset`, without waiting (empty at the head). */
  readMany(offset: number, maxRecords: number): JournalRecord[] {
    return this.reader.readMany(offset, maxRecords);
  }

  /** Resolves once a record exists at or after `offset` (the head moved past it), or on abort. */
  waitBeyond(offset: number, signal?: AbortSignal): Promise<void> {
    return this.reader.waitBeyond(offset, signal);
  }

  /**
   * The last record boundary at or before `offset` (the head at or beyond
   * it), by a walk over length fields from the offset's segment base (or
   * from `hint`, a known boundary in the same segment: a hint that is not a
   * boundary gives a wrong answer, it is not checked). Cheap enough to
   * validate cursors with.
   */
  boundaryAtOrBefore(offset: number, hint?: number): number {
    return this.reader.boundaryAtOrBefore(offset, hint);
  }

  /** Number of records in [from, to) (to defaults to the head); both must be record boundaries. */
  countRecords(from: number, to: number = this.headOffset): number {
    return this.reader.countRecords(from, to);
  }

  /** Makes every resolved append durable (for `none`). */
  async sync(): Promise<void> {
    this.checkOpen();
    if (!this.writer) throw new ReadOnlyError('sync');
    await this.writer.sync();
  }

  /**
   * Deletes the sealed segments whose every record is below `offset` (never
   * the active one), oldest first, then syncs the directory. Returns the
   * deleted file names. A segment leaves the list only once its file is
   * gone, so after a failure (a typed error) the list still matches the
   * directory and a later call resumes where this one stopped.
   */
  deleteSegmentsBelow(offset: number): string[] {
    this.checkOpen();
    if (!this.writer) throw new ReadOnlyError('deleteSegmentsBelow');
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`an offset must be a non-negative safe integer, not ${String(offset)}`);
    }
    const { io, dir } = this.options;
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

  /**
   * Waits for pending appends, syncs, releases the lock. Idempotent: a
   * second call, while the first is still closing too, gets the same
   * promise (it settles when the lock is released, with the close's error
   * if it failed), so a shutdown handler and a `finally` can both close.
   */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    try {
      await this.writer?.close();
    } finally {
      this.published?.close();
      this.segments.closeAll();
      this.changes.close();
      this.lock?.release();
    }
  }

  /** Resolves to the offset of the first payload. Never throws: every error is a rejection. */
  private appendMany(payloads: Uint8Array[], options: AppendOptions | undefined): Promise<number> {
    if (this.closed) return Promise.reject(new ClosedError());
    if (!this.writer) return Promise.reject(new ReadOnlyError('append'));
    const durability = options?.durability ?? this.options.durability;
    if (durability !== 'immediate' && durability !== 'none') {
      return Promise.reject(new InvalidArgumentError(`durability must be 'immediate' or 'none'`));
    }
    return this.writer.append(payloads, durability);
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError();
  }

  /** Read-only journals: see ReadOnlyView. False for a writer, whose view is always current. */
  private refresh(): boolean {
    if (!this.view || this.closed) return false;
    this.refreshedAt = performance.now();
    const changed = this.view.refresh();
    this.headOffset = this.view.head;
    return changed;
  }
}
