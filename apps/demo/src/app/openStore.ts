import { existsSync } from 'node:fs';
import { EpistemeError, isEpistemeError, Journal, WalErrorCodes, type JournalOptions, type LogReader } from '@episteme/wal';
import { sleep } from '@episteme/wal/internals';
import { openEventStore, type EventStoreOptions, type LocalEventStore } from '@episteme/store';
import { checkpointPath } from '@episteme/store/internals';

/**
 * The data directory holds data of an earlier version of the app: one plain
 * JSON record per assertion event, which this version (one event store
 * commit per event, in the assertion's stream) cannot read. Nothing was
 * changed; docs/cli.md says how to carry the assertions over.
 */
export class LegacyDataError extends EpistemeError<'APP_LEGACY_DATA'> {
  constructor(readonly journalDir: string) {
    super(
      'APP_LEGACY_DATA',
      'state',
      `${journalDir} holds data of an earlier version of the app (each assertion a plain JSON record), which this version cannot read: ` +
        `it keeps each assertion's events in a stream of an event store. Nothing was changed. Use a new data directory (--data), and carry the ` +
        `assertions over with \`episteme import\` (docs/cli.md, "Data of earlier versions")`,
    );
  }
}

/** ASCII `ES`: the first bytes of every store record (docs/FORMAT.md, "Commits"). */
const STORE_MAGIC = [0x45, 0x53];

/**
 * Whether the log's first record is an assertion event of an earlier
 * version (a JSON object with an assertion event's type), rather than a
 * store record. One record is read; one that cannot be read (damage) is
 * left to the commands, which report it where they need it.
 */
export function holdsLegacyData(log: Pick<LogReader, 'earliest' | 'head' | 'read'>): boolean {
  if (log.head <= log.earliest) return false;
  let rec;
  try {
    rec = log.read(log.earliest);
  } catch {
    return false;
  }
  if (!rec || (rec.payload[0] === STORE_MAGIC[0] && rec.payload[1] === STORE_MAGIC[1])) return false;
  try {
    const value = JSON.parse(Buffer.from(rec.payload).toString('utf8')) as { type?: unknown } | null;
    return value !== null && typeof value === 'object' && (value.type === 'AssertionMade' || value.type === 'AssertionRetracted');
  } catch {
    return false;
  }
}

/**
 * Refuses a journal of the earlier app before the store's writer opens it
 * (its open would add the stream index's directory to it, and fail on the
 * first record). A store that has closed once has an index checkpoint, so
 * the check (a reader's open and one record) runs only without one.
 */
async function refuseLegacyData(options: EventStoreOptions): Promise<void> {
  if (existsSync(checkpointPath(options.dir)) || !existsSync(options.dir)) return;
  let reader;
  try {
    // the reader's own options: it refuses the store's (idempotencyWindow, ...) as unknown
    const { dir, io, maxPayloadBytes, archiveDir } = options;
    reader = await Journal.openForRead({ dir, ...(io ? { io } : {}), ...(maxPayloadBytes !== undefined ? { maxPayloadBytes } : {}), ...(archiveDir !== undefined ? { archiveDir } : {}) });
  } catch {
    return; // not a journal yet, or one the writer's open will report on
  }
  try {
    if (holdsLegacyData(reader)) throw new LegacyDataError(options.dir);
  } finally {
    await reader.close();
  }
}

export interface OpenStoreOptions {
  /** How long to wait for another process's writer lock (0: refuse at once, WAL_LOCKED). */
  lockWaitMs: number;
  /** Told once, when the lock is held and the open starts to wait. */
  onLockWait?: (message: string) => void;
}

/**
 * Opens the app's event store as the journal's writer; a writer lock held
 * by another process is waited for, up to `lockWaitMs`, trying again every
 * few tens of milliseconds (a refused open changes nothing).
 */
export async function openAppStore(options: EventStoreOptions, how: OpenStoreOptions): Promise<LocalEventStore> {
  await refuseLegacyData(options);
  const deadline = Date.now() + how.lockWaitMs;
  let told = false;
  for (;;) {
    try {
      return await openEventStore(options);
    } catch (err) {
      if (!isEpistemeError(err, WalErrorCodes.Locked) || Date.now() >= deadline) throw err;
      if (!told) how.onLockWait?.(`${err.message}; waiting up to ${how.lockWaitMs} ms for it (--lock-wait)`);
      told = true;
      await sleep(20 + Math.random() * 30);
    }
  }
}
