import { resolve } from 'node:path';
import { ClosedError } from '../errors.js';
import type { FileIO } from '../io/fileIO.js';
import type { LogReader } from '../log/logReader.js';
import type { VerifyOnRead } from './options.js';
import type { ChangeNotifier } from './changeNotifier.js';
import type { KnownBoundaries } from './knownBoundaries.js';
import { checkOptionKeys } from '../optionKeys.js';
import { READ_MANY_KEYS, RecordReader, type JournalRecord, type LogView, type ReadFromOptions, type ReadManyOptions, type RecordBytesVisitor } from './recordReader.js';
import type { SegmentManager } from './segmentManager.js';
import type { JournalTelemetry } from '../telemetry/journalTelemetry.js';

/** What the writer and a reader are opened with, for the reading they share. */
export interface JournalParts {
  dir: string;
  io: FileIO;
  maxPayloadBytes: number;
  /** What a read checks of each record (JournalOptions.verifyOnRead). */
  verifyOnRead: VerifyOnRead;
  segments: SegmentManager;
  changes: ChangeNotifier;
  /** The writer remembers boundaries (BoundaryCache), a reader does not (NO_KNOWN_BOUNDARIES). */
  known: KnownBoundaries;
  /** Counts the checksum failures reads meet; undefined when nothing collects metrics. */
  telemetry?: JournalTelemetry | undefined;
}

/** Each journal's record reader, for `readManyContinuing` (not a member: it is no part of the public class). */
const readers = new WeakMap<JournalBase, RecordReader>();

/**
 * `journal.readMany(offset, maxRecords)` for a reader going on from a record
 * it read (`offset` is that record's `next`): records that do not decode at
 * `offset` are reported as damage (WAL_CORRUPT_RECORD), as `readFrom` reports
 * them, not as a bad offset. Same checks on every record as `readMany`.
 * Exported through `@episteme/wal/internals` (a sequential reader's loop of
 * `readMany` without an async step per record).
 */
export function readManyContinuing(journal: JournalBase, offset: number, maxRecords: number): JournalRecord[] {
  const reader = readers.get(journal);
  if (reader === undefined) throw new TypeError('readManyContinuing needs a journal');
  return reader.readMany(offset, maxRecords, true);
}

/**
 * Visits the records at `offsets` of `journal` (a stream's commits, whose
 * offsets the store's index knows), each checked as `journal.read` checks
 * it. The offsets are record boundaries: a record that does not decode at
 * one is damage (WAL_CORRUPT_RECORD naming it); an offset at or past the
 * head is out of range.
 * Records near each other are fetched with one pread, into a buffer the
 * journal keeps: the visitor's bytes are valid during its call only.
 * Exported through `@episteme/wal/internals`.
 */
export function readRecordsAt(journal: JournalBase, offsets: readonly number[], visit: RecordBytesVisitor): void {
  const reader = readers.get(journal);
  if (reader === undefined) throw new TypeError('readRecordsAt needs a journal');
  reader.readEach(offsets, visit);
}

/**
 * `readManyContinuing` without a copy or an object per record: the records
 * from `offset` (up to `maxRecords`) are handed to `visit` in the reader's
 * own buffer, valid during the call only; returns the offset after the last
 * one visited. `continuing` as in readManyContinuing. Same checks and errors
 * as readMany; records before damage are visited first. Exported through
 * `@episteme/wal/internals` (the store's readAll).
 */
export function visitRecords(journal: JournalBase, offset: number, maxRecords: number, continuing: boolean, visit: RecordBytesVisitor): number {
  const reader = readers.get(journal);
  if (reader === undefined) throw new TypeError('visitRecords needs a journal');
  return reader.visitMany(offset, maxRecords, continuing, visit);
}

/**
 * The reading half of a journal, shared by the writer (`Journal`) and a
 * reader in another process (`JournalReader`). What differs between them
 * is given by each subclass, not by a flag: how the view of the directory is
 * refreshed (`refreshView`, a no-op for the writer, whose view is always
 * current), which boundaries are remembered (`known`), and what closing
 * releases.
 */
export abstract class JournalBase implements LogReader {
  /** The journal directory. */
  readonly dir: string;
  protected closed = false;
  private closing: Promise<void> | undefined;
  /** Offset where the next record will be written (a reader: the end of the last one it sees). */
  protected headOffset = 0;
  protected readonly segments: SegmentManager;
  protected readonly changes: ChangeNotifier;
  private readonly records: RecordReader;

  protected constructor(parts: JournalParts) {
    this.dir = parts.dir;
    this.segments = parts.segments;
    this.changes = parts.changes;
    const view: LogView = {
      earliest: () => this.earliest,
      head: () => this.headOffset,
      refresh: () => this.refreshView(),
      refreshIfStale: () => this.refreshIfStale(),
      checkOpen: () => this.checkOpen(),
      ...(parts.telemetry && { checksumFailed: () => parts.telemetry!.checksumFailed() }),
    };
    this.records = new RecordReader(parts.io, parts.segments, view, parts.maxPayloadBytes, parts.verifyOnRead === 'full', parts.changes, parts.known);
    readers.set(this, this.records);
  }

  /**
   * The journal directory, resolved (LogReader: where the log lives): the
   * same directory reached as `./data` and `/abs/data` is one log to the
   * in-process bookkeeping keyed on it.
   */
  get location(): string {
    return resolve(this.dir);
  }

  /** Offset where the next record will be written (a reader: the end of the last record it sees). */
  get head(): number {
    return this.headOffset;
  }

  /** Offset of the first retained record. */
  get earliest(): number {
    return this.segments.first?.base ?? this.headOffset;
  }

  abstract get truncatedAt(): number | undefined;

  /** The segment files, oldest first: name and base offset (a reader looks at the directory again first). */
  segmentList(): Array<{ name: string; base: number }> {
    this.checkOpen();
    this.refreshView();
    return this.segments.segments.map((s) => ({ name: s.name, base: s.base }));
  }

  /** The record at `offset`, or undefined at the head. */
  read(offset: number): JournalRecord | undefined {
    return this.records.read(offset);
  }

  /** Records from `offset` in order; with `follow`, waits at the head until `signal` aborts. */
  readFrom(offset: number, options: ReadFromOptions = {}): AsyncGenerator<JournalRecord, void, undefined> {
    return this.records.readFrom(offset, options);
  }

  /** Up to `maxRecords` records from `offset`, without waiting (empty at the head); `transient`: see ReadManyOptions. */
  readMany(offset: number, maxRecords: number, options?: ReadManyOptions): JournalRecord[] {
    if (options !== undefined) checkOptionKeys('readMany', options, READ_MANY_KEYS);
    return this.records.readMany(offset, maxRecords, false, options?.transient ?? false);
  }

  /** Resolves once a record exists at or after `offset` (the head moved past it), or on abort. */
  waitBeyond(offset: number, signal?: AbortSignal): Promise<void> {
    return this.records.waitBeyond(offset, signal);
  }

  /**
   * The last record boundary at or before `offset` (the head at or beyond
   * it, -1 below the earliest retained record), by a walk over length
   * fields from the nearest boundary known in the offset's segment. Cheap
   * enough to validate cursors with.
   */
  boundaryAtOrBefore(offset: number): number {
    return this.records.boundaryAtOrBefore(offset);
  }

  /** Number of records in [from, to) (to defaults to the head); both must be record boundaries. */
  countRecords(from: number, to: number = this.headOffset): number {
    return this.records.countRecords(from, to);
  }

  /** Brings `head` and `earliest` up to date (a reader looks at the directory again; the writer is always current). */
  refresh(): void {
    this.checkOpen();
    this.refreshView();
  }

  abstract makeDurable(): Promise<void>;

  /**
   * Idempotent: a second call, while the first is still closing too, gets
   * the same promise (it settles once everything is released, with the
   * close's error if it failed), so a shutdown handler and a `finally` can
   * both close.
   */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  /** Releases what the journal holds (calling closeFiles); called once, after `closed` is set. */
  protected abstract release(): Promise<void>;

  /** Closes the segment descriptors and stops waiting for changes. */
  protected closeFiles(): void {
    this.segments.closeAll();
    this.changes.close();
  }

  /**
   * Re-reads the directory. True when the head or the earliest offset moved,
   * or the view was rebuilt: a read that missed is worth trying again.
   */
  protected abstract refreshView(): boolean;

  /** A reader re-lists the segments when its view is older than a moment; the writer's never is. */
  protected refreshIfStale(): void {}

  protected checkOpen(): void {
    if (this.closed) throw new ClosedError();
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    await this.release();
  }
}
