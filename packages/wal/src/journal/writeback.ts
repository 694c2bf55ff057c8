import type { LastRecord } from '../recovery/recoveryPoint.js';
import type { ActiveSegment } from './activeSegment.js';

/**
 * Background writeback for appends that do not wait for a sync (durability
 * `none`, RocksDB's `wal_bytes_per_sync`): every `writebackBytes` written
 * (a journal option; 0: never), an fdatasync of the active segment starts
 * on the thread pool and nobody waits for it. Without it, the dirty pages
 * of a whole segment wait for the rotation, whose sync then stalls the
 * append that crossed the limit (64 MiB at ~1 GB/s: tens of milliseconds,
 * about 3 µs per 4 KiB record on average in the append bench), and for
 * `close()`. A completed one also lets the writer record a synced prefix,
 * so that an open after a crash scans less.
 *
 * A failed background sync is a failed fsync like any other: the journal
 * enters its failed state (docs/journal.md: never retried and forgotten). The
 * writer waits for a running one before it closes the segment's descriptor.
 */
export class Writeback {
  private running: Promise<void> | undefined;
  private bytes = 0;

  constructor(
    private readonly every: number,
    /** The sync started when `segment` ended at global offset `end` with CRC32C `crc` (and record `last` last) is done. */
    private readonly onSynced: (segment: ActiveSegment, end: number, crc: number, last: LastRecord | undefined) => void,
    private readonly onFailed: (err: unknown) => void,
  ) {}

  /** `bytes` more bytes were written to `segment` and not synced; it now ends at global offset `end`, with CRC32C `crc`, record `last` last. */
  wrote(segment: ActiveSegment, bytes: number, end: number, crc: number, last: LastRecord | undefined): void {
    this.bytes += bytes;
    if (this.running !== undefined || this.every <= 0 || this.bytes < this.every) return;
    this.bytes = 0;
    this.running = segment.syncAsync().then(
      () => {
        this.running = undefined;
        this.onSynced(segment, end, crc, last);
      },
      (err: unknown) => {
        this.running = undefined;
        this.onFailed(err);
      },
    );
  }

  /** A sync of the whole segment ran on the writer's path: what was counted is synced. */
  synced(): void {
    this.bytes = 0;
  }

  /** Resolves once no background sync runs (before a descriptor is closed). Never rejects. */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }
}
