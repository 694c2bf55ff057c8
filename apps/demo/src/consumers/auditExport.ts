import { dirname } from 'node:path';
import { createDirectories, nodeFileIO, type FileIO } from '@episteme/wal';
import { readFully, sleep, writeFully } from '@episteme/wal/internals';
import { runEventConsumer, type ConsumerRegistry, type RunResult } from '@episteme/consumers';
import { ConfigError } from '../app/config.js';
import { assertionDecoder, type AppEvent, type AppEventType } from '../projections/assertionEvents.js';

export const AUDIT_CONSUMER = 'audit-export';

export interface AuditExportOptions {
  /**
   * While the export follows the head (batches under 512 lines), at most
   * one sync of its file starts every `syncGapMs` (default 10): a batch's
   * sync waits for the rest, and the appends of that while come in the
   * next, larger batch. Following 64 producers, the export otherwise synced
   * every 90 commits or so, over a quarter of all the syncs the disk
   * served during the demo's append phase (the journal's group commits the
   * rest).
   * Lines count as exported only once synced, whatever the gap; a larger
   * batch (catching up) syncs at once. 0: every batch syncs at once.
   */
  syncGapMs?: number;
}

const DEFAULT_SYNC_GAP_MS = 10;
/** A batch this large or larger syncs at once: the export is catching up, not following. */
const PACED_BELOW_LINES = 512;

/**
 * Appends every assertion event of the store as one NDJSON line
 * `{"globalPosition","stream","streamPosition","id","type","recordedAt","data","metadata"}`
 * to a file, exactly once per event even across crashes: delivery is at
 * least once, and the file itself remembers the last global position it
 * holds, so a redelivered event is skipped. A line torn by a crash is cut
 * on start. Only assertion events are exported (see assertionEvents.ts). It
 * runs as a consumer of the store (runEventConsumer): a commit is delivered
 * whole, at least once.
 * Every file operation goes through a FileIO (the app passes the journal's),
 * so that a test can drop what was never synced (a power loss).
 */
export class AuditExporter {
  private fd: number | undefined;
  /** End of the file: where the next lines go. */
  private size = 0;
  /** A rollback that failed (after a failed write or sync): what the file holds is unknown until it is opened again. */
  private failure: { what: string; err: unknown } | undefined;
  /** Global position of the last event in the file (-1 when empty). */
  lastPosition = -1;
  written = 0;
  /** The last event time written, as milliseconds and as its JSON (see timeOf). */
  private lastTimeMs = NaN;
  private lastTime: string | null = null;

  /** When the last sync started (performance.now()): see handle. */
  private lastSyncAt = -Infinity;
  private readonly syncGapMs: number;

  constructor(
    readonly path: string,
    private readonly io: FileIO = nodeFileIO,
    options: AuditExportOptions = {},
  ) {
    const gap = options.syncGapMs ?? DEFAULT_SYNC_GAP_MS;
    if (typeof gap !== 'number' || !Number.isFinite(gap) || gap < 0) throw new ConfigError(`the audit export's sync gap is a number of milliseconds from 0, not ${String(gap)}`);
    this.syncGapMs = gap;
  }

  open(): void {
    // not mkdirSync(..., { recursive: true }): on Node 20 it never returns for a path on /proc and the like
    createDirectories(this.io, dirname(this.path));
    // created if absent, then reopened without O_APPEND: on Linux an O_APPEND
    // descriptor writes at the end whatever position it is given, and a batch
    // must go where the last synced one ended (see handle)
    this.io.close(this.io.open(this.path, 'a+'));
    // the file's entry in its directory: without this sync a power loss can take the
    // whole file (every line exported) while the consumer's cursor stays past them
    this.io.syncDir(dirname(this.path));
    this.fd = this.io.open(this.path, 'r+');
    this.failure = undefined;
    this.size = this.io.size(this.fd);
    this.lastPosition = this.recoverTail();
  }

  /**
   * The batch handler: writes the new lines, then syncs before the cursor
   * may move; `lastPosition` moves only once the lines are synced. The sync
   * is the async one, resolved by the promise returned (the runner awaits it
   * before the next batch and before its cursor moves): a synchronous one
   * held the event loop, and with it the app's appends, for a third of the
   * demo's append phase. A failed write throws at once. A failed
   * write or sync is cut back to the end of the last synced batch, and that
   * cut synced, before the error is thrown: the runner's retry writes the
   * batch again, whole. A failed sync may have dropped the pages it was
   * writing while they still read back from the page cache (Linux), so the
   * lines are never trusted after one, however they read: they are cut.
   * When the cut itself fails, every later batch throws until the exporter
   * is opened again.
   */
  readonly handle = (events: readonly AppEvent[]): void | Promise<void> => {
    if (this.failure !== undefined) {
      throw new Error(`audit export to ${this.path} stopped: cutting back ${this.failure.what} failed; restart to resume from what the file holds`, { cause: this.failure.err });
    }
    const fd = this.fd!;
    const lines: string[] = [];
    let last = this.lastPosition;
    for (const e of events) {
      if (e.type === 'NotAnAssertion') continue; // not the app's
      if (e.globalPosition <= last) continue; // already exported before a crash
      const { globalPosition, stream, streamPosition, id, type, data, metadata } = e;
      lines.push(JSON.stringify({ globalPosition, stream, streamPosition, id, type, recordedAt: this.timeOf(e.recordedAt), data, metadata }) + '\n');
      last = globalPosition;
    }
    if (lines.length === 0) return;
    const bytes = Buffer.from(lines.join(''));
    try {
      writeFully(this.io, fd, bytes, 0, bytes.length, this.size);
    } catch (err) {
      // the torn part is cut off, so that a shorter retry leaves no half line behind it
      this.cutBack('a failed write');
      throw err;
    }
    // a small batch (following the head): its sync waits until the last one is syncGapMs old,
    // and the appends of that while make the next batch larger (see AuditExportOptions)
    const wait = lines.length < PACED_BELOW_LINES ? this.lastSyncAt + this.syncGapMs - performance.now() : 0;
    return wait > 0 ? sleep(wait).then(() => this.sync(fd, bytes.length, last, lines.length)) : this.sync(fd, bytes.length, last, lines.length);
  };

  /** Syncs the lines just written; then (only then) they count as exported. */
  private sync(fd: number, length: number, last: number, count: number): Promise<void> {
    this.lastSyncAt = performance.now();
    return this.io.fsyncAsync(fd).then(
      () => {
        this.size += length;
        this.lastPosition = last;
        this.written += count;
      },
      (err: unknown) => {
        this.cutBack('a failed sync');
        throw err;
      },
    );
  }

  /**
   * What JSON.stringify writes for the event's time (its `toJSON`: the ISO
   * string, null for an invalid date), made once per millisecond: the
   * events of a group commit share their millisecond, and the conversion
   * cost about a quarter of a line.
   */
  private timeOf(recordedAt: Date): string | null {
    const ms = recordedAt.getTime();
    if (ms !== this.lastTimeMs) {
      this.lastTimeMs = ms;
      this.lastTime = recordedAt.toJSON();
    }
    return this.lastTime;
  }

  /** Cuts the file back to the end of the last synced batch, durably; on failure the exporter stops. */
  private cutBack(what: string): void {
    try {
      this.io.truncate(this.fd!, this.size);
      this.io.fsync(this.fd!);
    } catch (err) {
      this.failure = { what, err };
    }
  }

  run(registry: ConsumerRegistry, signal: AbortSignal, options: { stopAtHead?: boolean } = {}): Promise<RunResult> {
    registry.register(AUDIT_CONSUMER, { startFrom: 'earliest' });
    return runEventConsumer<AppEventType>(registry, AUDIT_CONSUMER, {
      decoder: assertionDecoder(),
      batchHandler: (events) => this.handle(events as AppEvent[]),
      batchSize: 2048,
      commitEveryRecords: 2048,
      // the batch's records are views into the run's own buffer: handle keeps nothing of them (it decodes, then writes lines)
      transientRecords: true,
      signal,
      ...options,
    });
  }

  close(): void {
    if (this.fd !== undefined) this.io.close(this.fd);
    this.fd = undefined;
  }

  /** Cuts a torn last line and returns the global position of the last whole one. */
  private recoverTail(): number {
    const fd = this.fd!;
    const size = this.size;
    if (size === 0) return -1;
    const chunk = Math.min(size, 1024 * 1024);
    const buf = Buffer.alloc(chunk);
    readFully(this.io, fd, buf, 0, chunk, size - chunk);
    let end = buf.length;
    if (buf[end - 1] !== 0x0a) {
      const lastNewline = buf.lastIndexOf(0x0a);
      const keep = lastNewline < 0 ? size - chunk : size - chunk + lastNewline + 1;
      this.io.truncate(fd, keep);
      this.io.fsync(fd);
      this.size = keep;
      if (lastNewline < 0) return -1;
      end = lastNewline + 1;
    }
    const start = buf.lastIndexOf(0x0a, end - 2) + 1;
    const line = buf.subarray(start, end - 1).toString('utf8');
    const m = /^\{"globalPosition":(\d+),/.exec(line);
    return m ? Number(m[1]) : -1;
  }
}
