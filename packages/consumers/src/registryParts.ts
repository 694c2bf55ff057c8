import type { CursorStore, FileIO, LogReader, Retention } from '@episteme/wal';
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
