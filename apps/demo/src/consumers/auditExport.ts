import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createDirectories, nodeFileIO, type JournalRecord } from '@episteme/wal';
import { runConsumer, type ConsumerRegistry, type RunResult } from '@episteme/consumers';

export const AUDIT_CONSUMER = 'audit-export';

/**
 * Appends every assertion event as one NDJSON line `{"offset":N,...event}`
 * to a file, exactly once per record even across crashes: delivery is at
 * least once, and the file itself remembers the last offset it holds, so a
 * redelivered record is skipped. A line torn by a crash is cut on start.
 */
export class AuditExporter {
  private fd: number | undefined;
  /** Offset of the last record in the file (-1 when empty). */
  lastOffset = -1;
  written = 0;

  constructor(readonly path: string) {}

  open(): void {
    // not mkdirSync(..., { recursive: true }): on Node 20 it never returns for a path on /proc and the like
    createDirectories(nodeFileIO, dirname(this.path));
    this.fd = openSync(this.path, 'a+');
    this.lastOffset = this.recoverTail();
  }

  /** The batch handler: writes new lines, then syncs before the cursor may move. */
  readonly handle = (records: JournalRecord[]): void => {
    const fd = this.fd!;
    const lines: string[] = [];
    for (const r of records) {
      if (r.offset <= this.lastOffset) continue; // already exported before a crash
      lines.push(`{"offset":${r.offset},${Buffer.from(r.payload).toString('utf8').slice(1)}\n`);
      this.lastOffset = r.offset;
    }
    if (lines.length === 0) return;
    const bytes = Buffer.from(lines.join(''));
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, null);
    fsyncSync(fd);
    this.written += lines.length;
  };

  run(registry: ConsumerRegistry, signal: AbortSignal, options: { stopAtHead?: boolean } = {}): Promise<RunResult> {
    registry.register(AUDIT_CONSUMER, { startFrom: 'earliest' });
    return runConsumer(registry, AUDIT_CONSUMER, { batchHandler: this.handle, batchSize: 2048, commitEveryRecords: 2048, signal, ...options });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Cuts a torn last line and returns the offset of the last whole one. */
  private recoverTail(): number {
    const fd = this.fd!;
    const size = fstatSync(fd).size;
    if (size === 0) return -1;
    const chunk = Math.min(size, 1024 * 1024);
    const buf = Buffer.alloc(chunk);
    readSync(fd, buf, 0, chunk, size - chunk);
    let end = buf.length;
    if (buf[end - 1] !== 0x0a) {
      const lastNewline = buf.lastIndexOf(0x0a);
      const keep = lastNewline < 0 ? size - chunk : size - chunk + lastNewline + 1;
      ftruncateSync(fd, keep);
      fsyncSync(fd);
      if (lastNewline < 0) return -1;
      end = lastNewline + 1;
    }
    const start = buf.lastIndexOf(0x0a, end - 2) + 1;
    const line = buf.subarray(start, end - 1).toString('utf8');
    const m = /^\{"offset":(\d+),/.exec(line);
    return m ? Number(m[1]) : -1;
  }
}
