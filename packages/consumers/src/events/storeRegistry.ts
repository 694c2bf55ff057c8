import type { LocalEventStore } from '@episteme/store';
import { Journal, type Retention } from '@episteme/wal';
import { InvalidConsumerArgumentError } from '../errors.js';
import { FileCursorStore } from '../fileCursorStore.js';
import { checkRegistryOptions, type JournalRegistryOptions, type Logger, type RegistryOptions, type RegistryParts } from '../registryParts.js';

/**
 * `ConsumerRegistry.forStore`'s options: the journal registry's. `autoCleanup`
 * only where the store's journal archives (`archiveDir`): cleanup then moves
 * segments to the archive, where the stream index still reads them.
 */
export type StoreRegistryOptions = JournalRegistryOptions;

/** What `cleanup()` on a store's registry tells the logger (it deletes nothing). */
export const STORE_CLEANUP_UNSUPPORTED =
  'cleanup is not supported under an event store whose journal does not archive (archiveDir): the stream index points into every segment (readStream, aggregateStream and a rebuild need the whole log); nothing was deleted';

/**
 * The parts of the registry of an event store's consumers: its log, cursor
 * files in `<store dir>/consumers/` (synced and tidied once per open, as the
 * journal writer's are), and a Retention that deletes nothing. The
 * Retention is there because this process holds the log's writer: the
 * registry then rewrites cursors that recovery left beyond the log, as a
 * journal writer's registry does; it only ever says that cleanup is
 * unsupported. Bad arguments: InvalidConsumerArgumentError, before any file is touched.
 */
export function storeRegistryParts(store: LocalEventStore, options: StoreRegistryOptions = {}): { parts: RegistryParts; options: RegistryOptions } {
  const s = store as Partial<LocalEventStore> | null;
  if (typeof s !== 'object' || s === null || typeof s.dir !== 'string' || typeof s.log?.readMany !== 'function') {
    throw new InvalidConsumerArgumentError('ConsumerRegistry.forStore takes an event store (openEventStore); over a journal, use ConsumerRegistry.forJournal');
  }
  checkRegistryOptions('ConsumerRegistry.forStore', options, true);
  const log = store.log;
  // cleanup that archives keeps every segment readable: the stream index may point anywhere
  const archiving = log instanceof Journal && log.archiveDir !== undefined ? log : undefined;
  if (!archiving && (options as RegistryOptions).autoCleanup !== undefined) {
    throw new InvalidConsumerArgumentError('autoCleanup is not an option of a store\'s registry unless its journal archives (archiveDir): cleanup is not supported under an event store otherwise (the stream index points into every segment)');
  }
  const { io, ...rest } = options;
  const logger: Logger = rest.logger ?? { warn: (m) => console.warn(m) };
  // the log is the store's writer journal at run time, though typed read-only
  const cursors = log instanceof Journal ? FileCursorStore.ofWriter(log, io, logger) : new FileCursorStore(store.dir, io);
  if (archiving) return { parts: { log, cursors, retention: archiving }, options: { ...rest, autoCleanup: rest.autoCleanup ?? true } };
  const retention: Retention = {
    deleteBelow: () => {
      logger.warn(STORE_CLEANUP_UNSUPPORTED);
      return [];
    },
  };
  return { parts: { log, cursors, retention }, options: { ...rest, autoCleanup: false } };
}
