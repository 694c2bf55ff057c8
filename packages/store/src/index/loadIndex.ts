import type { Journal, LogRecord } from '@episteme/wal';
import type { FileIO } from '@episteme/wal';
import { decodeEvents, decodeHeader } from '../commit/decodeCommit.js';
import { KIND_COMMIT } from '../commit/layout.js';
import { IdempotencyWindow } from '../idempotencyWindow.js';
import { decodeCheckpoint, readCheckpointFile } from './checkpoint.js';
import { StreamIndex } from './streamIndex.js';

/** How the index came to be at open: from its checkpoint, or rebuilt (and why). */
export type IndexSource = 'checkpoint' | 'empty-log' | 'missing' | 'damaged' | 'stale';

export interface LoadedIndex {
  index: StreamIndex;
  window: IdempotencyWindow;
  source: IndexSource;
  /** Records of the log the open read to bring the index up to date (the tail, or all on a rebuild). */
  recordsReplayed: number;
}

/** Folds one record of the log into the index and the window. */
export function foldRecord(index: StreamIndex, window: IdempotencyWindow, rec: LogRecord): void {
  const header = decodeHeader(rec.payload, rec.offset);
  if (header.kind === KIND_COMMIT) {
    index.applyCommit(header.stream, rec.offset, header.firstPosition, header.count);
    if (window.capacity > 0) for (const e of decodeEvents(rec.payload, header, rec.offset)) if (!e.generatedId) window.add(e.id, rec.offset);
  } else {
    index.applyTombstone(header.stream);
  }
  index.advance(rec.offset, rec.next, rec.blake3.slice()); // a read's digest is a view into a shared buffer
}

/**
 * True when the checkpoint's position is a record boundary of this log and
 * the record before it is the one the checkpoint saw (same BLAKE3): a crash
 * that cut the log below the checkpoint, and new records written over the
 * cut since, make it describe another log.
 */
function matchesLog(journal: Journal, index: StreamIndex): boolean {
  if (index.head > journal.head) return false;
  if (index.head === 0) return journal.earliest === 0;
  if (index.lastRecord < journal.earliest) return false;
  try {
    const rec = journal.read(index.lastRecord);
    return rec !== undefined && rec.next === index.head && Buffer.from(rec.blake3).equals(Buffer.from(index.lastDigest!));
  } catch {
    return false; // not a record boundary, or damaged: not the log it saw
  }
}

/**
 * The index as of the journal's head: the checkpoint plus the records after
 * it, or (no checkpoint, a damaged one, or one of another log) a fold of
 * every retained record.
 */
export function loadIndex(journal: Journal, io: FileIO, dir: string, windowCapacity: number): LoadedIndex {
  let source: IndexSource = 'checkpoint';
  let loaded: { index: StreamIndex; window: IdempotencyWindow } | undefined;
  let bytes: Buffer | undefined;
  try {
    bytes = readCheckpointFile(io, dir);
  } catch {
    source = 'damaged';
  }
  if (bytes !== undefined) {
    try {
      loaded = decodeCheckpoint(bytes, windowCapacity);
      if (!matchesLog(journal, loaded.index)) {
        loaded = undefined;
        source = 'stale';
      }
    } catch {
      source = 'damaged';
    }
  } else if (source === 'checkpoint') {
    source = journal.head === journal.earliest && journal.earliest === 0 ? 'empty-log' : 'missing';
  }
  const index = loaded?.index ?? new StreamIndex();
  const window = loaded?.window ?? new IdempotencyWindow(windowCapacity);
  let at = loaded ? index.head : journal.earliest;
  let recordsReplayed = 0;
  while (at < journal.head) {
    const batch = journal.readMany(at, 1024);
    if (batch.length === 0) break;
    for (const rec of batch) foldRecord(index, window, rec);
    recordsReplayed += batch.length;
    at = batch[batch.length - 1]!.next;
  }
  return { index, window, source, recordsReplayed };
}
