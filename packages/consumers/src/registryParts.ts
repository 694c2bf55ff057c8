import type { CursorStore, FileIO, LogReader, Retention } from '@episteme/wal';
import { unknownOptionKey, unknownOptionMessage } from '@episteme/wal/internals';
import type { WarningAbout } from './damageReports.js';
import { InvalidConsumerArgumentError } from './errors.js';

export interface ConsumerInfo {
  name: string;
  cursor: number;
  head: number;
  /** `head - cursor`: bytes of records for a journal (positions are byte offsets there), records for a log of sequence numbers. */
  lagBytes: number;
  /** Records between the cursor and the head (undefined when the cursor is not readable). */
  lagRecords: number | undefined;
  lastCommitAt: string;
  state: 'registered' | 'running' | 'stopped' | 'failed';
  /** The failed handler's message, or why the cursor cannot be used. */
  error?: string;
  /** The cursor file is damaged (`error` says so too): where, and why, for a caller that words its own advice. */
  damage?: { path: string; why: string };
  pid?: number;
}

export interface Logger {
  warn(message: string, about?: WarningAbout): void;
  info?(message: string): void;
}

/** What a registry works over. */
export interface RegistryParts {
  /** The log the consumers read. */
  log: LogReader;
  /** Where their cursors are kept. */
  cursors: CursorStore;
  /**
   * Given by the log's writer, which alone may delete: the registry then
   * deletes what every consumer has passed, and rewrites the stored cursors
   * that no longer fit the log. Without it (a reader in another process)
   * it does neither, and reports such cursors only: the writer may be
   * rewriting the tail it sees.
   */
  retention?: Retention;
}

export interface RegistryOptions {
  /** Delete what every consumer has passed after commits (default true; with a Retention only). */
  autoCleanup?: boolean;
  logger?: Logger;
  now?: () => Date;
}

/** `ConsumerRegistry.forJournal`'s options: the registry's, and the file-system seam of the cursor files (tests drop unsynced writes here). */
export interface JournalRegistryOptions extends RegistryOptions {
  io?: FileIO;
}

/** The keys of RegistryOptions, and of JournalRegistryOptions (each listed once: the compiler checks). */
const REGISTRY_KEYS: Record<keyof RegistryOptions, true> = { autoCleanup: true, logger: true, now: true };
const JOURNAL_REGISTRY_KEYS: Record<keyof JournalRegistryOptions, true> = { ...REGISTRY_KEYS, io: true };

/**
 * Refuses registry options that would not mean what they say, before
 * anything is read or written: a key the call does not take, and an
 * `autoCleanup` that is not a boolean. Cleanup deletes history, and only
 * `false` turns it off: `{ autoClenaup: false }` or `{ autoCleanup: 'false' }`
 * would leave it on, silently.
 */
export function checkRegistryOptions(call: string, options: unknown, withIo: boolean): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw new InvalidConsumerArgumentError(`${call}'s options must be an object, not ${String(options)}`);
  const allowed = Object.keys(withIo ? JOURNAL_REGISTRY_KEYS : REGISTRY_KEYS);
  const key = unknownOptionKey(options, allowed);
  if (key !== undefined) throw new InvalidConsumerArgumentError(unknownOptionMessage(call, key, allowed));
  const { autoCleanup } = options as RegistryOptions;
  if (autoCleanup !== undefined && typeof autoCleanup !== 'boolean') {
    throw new InvalidConsumerArgumentError(`autoCleanup must be true or false, not ${typeof autoCleanup === 'string' ? JSON.stringify(autoCleanup) : String(autoCleanup)} (only false turns cleanup off)`);
  }
}

/** Refuses what is not a registry's parts, naming the journal's way in (the constructor took a journal before). */
export function checkParts(parts: RegistryParts): RegistryParts {
  const p = parts as Partial<RegistryParts> | null;
  if (typeof p !== 'object' || p === null || typeof p.log?.readMany !== 'function' || typeof p.cursors?.read !== 'function') {
    throw new InvalidConsumerArgumentError('a ConsumerRegistry takes { log, cursors, retention? }; over a journal, use ConsumerRegistry.forJournal(journal)');
  }
  if (p.retention !== undefined && typeof p.retention.deleteBelow !== 'function') {
    throw new InvalidConsumerArgumentError('retention must have deleteBelow(position)');
  }
  return p as RegistryParts;
}
