import { nodeFileIO, type FileIO, type LogReader } from '@episteme/wal';
import { createEventDecoder, type EventDecoder } from '../eventDecoder.js';
import { StreamNotFoundError } from '../errors.js';
import { IdempotencyWindow } from '../idempotencyWindow.js';
import { decodeCheckpoint, readCheckpointFile } from '../index/checkpoint.js';
import { foldRecord, type IndexSource } from '../index/loadIndex.js';
import { StreamIndex } from '../index/streamIndex.js';
import { validateStreamName } from '../streamName.js';
import type { RecordedEvent, Upcaster } from '../types.js';

/** One stream as `StreamsView.list` gives it. */
export interface StreamSummary {
  stream: string;
  /** Its version (0 when deleted). */
  version: number;
  deleted: boolean;
  /** Global position of its last event; null when deleted. */
  lastGlobalPosition: number | null;
}

export interface StreamsViewOptions {
  /** Where the journal is (the checkpoint is `streams/index.ckpt` in it). */
  dir: string;
  io?: FileIO;
  /** As the store was opened with, so that `events` shows what `readStream` would. */
  upcasters?: Record<string, Upcaster>;
}

/**
 * The streams of a store's log as a reader sees them, without the store:
 * no writer lock, no file written, so it works while the store's writer
 * runs (the `episteme streams` commands). The index is built the way the
 * store's open builds it (its checkpoint, then the records after it), but
 * from a log the caller opened read-only; a checkpoint that is missing,
 * damaged or of another log means a fold of the whole log, and nothing is
 * written either way. It is a snapshot: records appended later are not in it.
 */
export class StreamsView {
  private constructor(
    private readonly log: LogReader,
    private readonly index: StreamIndex,
    private readonly decoder: EventDecoder,
    /** How the index was built, and how many records of the log that read. */
    readonly source: IndexSource,
    readonly recordsRead: number,
  ) {}

  static open(log: LogReader, options: StreamsViewOptions): StreamsView {
    const io = options.io ?? nodeFileIO;
    let source: IndexSource = 'checkpoint';
    let index: StreamIndex | undefined;
    let bytes: Buffer | undefined;
    try {
      bytes = readCheckpointFile(io, options.dir);
    } catch {
      source = 'damaged';
    }
    // after the checkpoint is read: the log then reaches at least as far as the checkpoint (the writer syncs before writing it)
    log.refresh();
    if (bytes !== undefined) {
      try {
        index = decodeCheckpoint(bytes, 0).index;
        if (!describesLog(log, index)) {
          index = undefined;
          source = 'stale';
        }
      } catch {
        source = 'damaged';
      }
    } else if (source === 'checkpoint') {
      source = log.head === 0 ? 'empty-log' : 'missing';
    }
    const built = index ?? new StreamIndex();
    const window = new IdempotencyWindow(0);
    const end = log.head;
    let at = index ? built.head : log.earliest;
    let recordsRead = 0;
    while (at < end) {
      const batch = log.readMany(at, 1024);
      if (batch.length === 0) break;
      for (const rec of batch) {
        if (rec.offset >= end) break;
        foldRecord(built, window, rec);
        recordsRead++;
      }
      at = batch[batch.length - 1]!.next;
    }
    return new StreamsView(log, built, createEventDecoder({ upcasters: options.upcasters }), source, recordsRead);
  }

  /** Every stream (deleted ones too), by name; those starting with `prefix` when given. */
  list(prefix?: string): StreamSummary[] {
    const out: StreamSummary[] = [];
    this.index.forEachStream((stream, version, deleted, last) => {
      if (prefix !== undefined && !stream.startsWith(prefix)) return;
      const lastGlobalPosition = deleted || last === -1 ? null : this.index.commitAtOf(last) + version - this.index.commitFirstOf(last);
      out.push({ stream, version, deleted, lastGlobalPosition });
    });
    return out.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  }

  /** The stream's summary; STORE_INVALID_STREAM_NAME for a bad name, STORE_STREAM_NOT_FOUND for one never written. */
  summaryOf(stream: string): StreamSummary {
    validateStreamName(stream);
    const state = this.index.stateOf(stream);
    if (state === undefined) throw new StreamNotFoundError(stream);
    const [last] = state.deleted ? [] : this.index.commitsCovering(stream, state.version, state.version);
    return { stream, version: state.version, deleted: state.deleted, lastGlobalPosition: last ? last[0] + state.version - last[1] : null };
  }

  /** The events of a stream, in stream order (none for a deleted one). */
  *events(stream: string): Generator<RecordedEvent> {
    this.summaryOf(stream);
    for (const [logPosition] of this.index.commitsCovering(stream, 1, Number.MAX_SAFE_INTEGER)) {
      const rec = this.log.read(logPosition);
      if (rec === undefined) return;
      yield* this.decoder.eventsOf(rec);
    }
  }
}

/** The checkpoint's last record is this log's record at that position (the store's own test at open). */
function describesLog(log: LogReader, index: StreamIndex): boolean {
  if (index.head > log.head) return false;
  if (index.head === 0) return log.earliest === 0;
  if (index.lastRecord < log.earliest) return false;
  try {
    const rec = log.read(index.lastRecord);
    return rec !== undefined && rec.next === index.head && Buffer.from(rec.blake3).equals(Buffer.from(index.lastDigest!));
  } catch {
    return false;
  }
}
