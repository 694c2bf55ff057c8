import { createDirectories, Journal, type FileIO } from '@episteme/wal';
import { isAtomicTempFile } from '@episteme/wal/internals';
import { join } from 'node:path';
import type { StoreWarning } from './errors.js';
import { STORE_DIR, encodeCheckpoint, writeCheckpointFile } from './index/checkpoint.js';
import { loadIndex } from './index/loadIndex.js';
import { LocalEventStore } from './localEventStore.js';
import { resolveStoreOptions, type EventStoreOptions } from './options.js';

const WHY: Record<'missing' | 'damaged' | 'stale', string> = {
  missing: 'no index checkpoint was found',
  damaged: 'the index checkpoint is damaged',
  stale: 'the index checkpoint describes another log (a crash cut the log below it)',
};

/** Temporary files of checkpoint writes that a crash interrupted: the checkpoint itself is whole either way. */
function removeStaleTempFiles(io: FileIO, dir: string): void {
  for (const name of io.readdir(dir)) {
    if (!isAtomicTempFile(name)) continue;
    try {
      io.unlink(join(dir, name));
    } catch {
      // one left behind costs a few bytes, not an open
    }
  }
}

/**
 * Opens (creating when absent) an event store on a journal directory: opens
 * the journal as its writer (recovery included), then brings the stream
 * index up to date from its checkpoint and the records after it, or, when
 * the checkpoint cannot be trusted, from the whole log (a warning says so;
 * nothing is lost).
 */
export async function openEventStore(options: EventStoreOptions): Promise<LocalEventStore> {
  const o = resolveStoreOptions(options);
  const journal = await Journal.open(o.journal);
  try {
    createDirectories(o.io, join(o.dir, STORE_DIR));
    removeStaleTempFiles(o.io, join(o.dir, STORE_DIR));
    const loaded = loadIndex(journal, o.io, o.dir, o.idempotencyWindow);
    const warnings: StoreWarning[] = [];
    if (loaded.source === 'missing' || loaded.source === 'damaged' || loaded.source === 'stale') {
      const warning: StoreWarning = {
        code: 'STORE_INDEX_REBUILT',
        reason: loaded.source,
        message: `${WHY[loaded.source]}: the stream index was rebuilt from ${loaded.recordsReplayed} records of the log`,
      };
      warnings.push(warning);
      o.onWarning?.(warning);
      // a checkpoint of the rebuilt index at once: a stale one must not outlive this open
      await journal.sync();
      writeCheckpointFile(o.io, o.dir, encodeCheckpoint(loaded.index, loaded.window));
    }
    return new LocalEventStore(journal, loaded.index, loaded.window, o, { source: loaded.source, recordsReplayed: loaded.recordsReplayed }, warnings);
  } catch (err) {
    await journal.close().catch(() => undefined);
    throw err;
  }
}
