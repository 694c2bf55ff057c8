import { dirname } from 'node:path';
import { createDirectories, nodeFileIO, readFully, writeFully, type FileIO, type JournalRecord } from '@episteme/wal';
import { runConsumer, type ConsumerRegistry, type RunResult } from '@episteme/consumers';

export const AUDIT_CONSUMER = 'audit-export';

/**
 * Appends every assertion event as one NDJSON line `{"offset":N,...event}`
 * to a file, exactly once per record even across crashes: delivery is at
 * least once, and the file itself remembers the last offset it holds, so a
 * redelivered record is skipped. A line torn by a crash is cut on start.
 * Every file operation goes through the journal's FileIO seam, so that a
 * test can drop what was never synced (a power loss).
 */
export class AuditExporter {
  private fd: number | undefined;
  /** End of the file: where the next lines go. */
  private size = 0;
  /** A failed sync or rollback: what the file holds is unknown until it is opened again. */
  private failure: unknown;
  /** Offset of the last record in the file (-1 when empty). */
  lastOffset = -1;
  written = 0;

  constructor(
    readonly path: string,
    private readonly io: FileIO = nodeFileIO,
  ) {}

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
    this.lastOffset = this.recoverTail();
  }

  /**
   * The batch handler: writes the new lines, then syncs before the cursor
   * may move. A failed write is cut back and thrown (the runner retries the
   * batch: it is written again, whole); `lastOffset` moves only once the
   * lines are synced. A failed sync is not retried (what reached the disk is
   * unknown): every later batch throws until the exporter is opened again,
   * which reads the last offset back from the file.
   */
  readonly handle = (records: JournalRecord[]): void => {
    if (this.failure !== undefined) throw new Error(`audit export to ${this.path} stopped after a failed sync; restart to resume from what the file holds`, { cause: this.failure });
    const fd = this.fd!;
    const lines: string[] = [];
    let last = this.lastOffset;
    for (const r of records) {
      if (r.offset <= last) continue; // already exported before a crash
      lines.push(`{"offset":${r.offset},${Buffer.from(r.payload).toString('utf8').slice(1)}\n`);
      last = r.offset;
    }
    if (lines.length === 0) return;
    const bytes = Buffer.from(lines.join(''));
    try {
      writeFully(this.io, fd, bytes, 0, bytes.length, this.size);
    } catch (err) {
      // the torn part is cut off, so that a shorter retry leaves no half line behind it
      try {
        this.io.truncate(fd, this.size);
      } catch (truncateErr) {
        this.failure = truncateErr;
      }
      throw err;
    }
    try {
      this.io.fsync(fd);
    } catch (err) {
      this.failure = err;
      throw err;
    }
    this.size += bytes.length;
    this.lastOffset = last;
    this.written += lines.length;
  };

  run(registry: ConsumerRegistry, signal: AbortSignal, options: { stopAtHead?: boolean } = {}): Promise<RunResult> {
    registry.register(AUDIT_CONSUMER, { startFrom: 'earliest' });
    return runConsumer(registry, AUDIT_CONSUMER, { batchHandler: this.handle, batchSize: 2048, commitEveryRecords: 2048, signal, ...options });
  }

  close(): void {
    if (this.fd !== undefined) this.io.close(this.fd);
    this.fd = undefined;
  }

  /** Cuts a torn last line and returns the offset of the last whole one. */
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
    const m = /^\{"offset":(\d+),/.exec(line);
    return m ? Number(m[1]) : -1;
  }
}
