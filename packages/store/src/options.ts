import { DEFAULT_OPTIONS, nodeFileIO, type FileIO, type JournalOptions } from '@episteme/wal';
import { StoreInvalidArgumentError, type StoreWarning } from './errors.js';
import type { Upcaster } from './types.js';
import { validateUpcasters, type Upcasters } from './upcasting.js';
import { describeValue } from './describeValue.js';
import { checkOptionKeys } from './optionKeys.js';
import { JOURNAL_OPTION_KEYS } from '@episteme/wal/internals';

export interface EventStoreOptions extends JournalOptions {
  /**
   * How many of the latest caller-given event ids are remembered for
   * idempotent retries (default 1,000,000; 0 turns retries off: a retry is
   * then appended again or, with an expected version, refused as a
   * conflict). Ids the store generates are not remembered.
   */
  idempotencyWindow?: number;
  /**
   * The index checkpoint is written at close and after every this many
   * commits (default 100,000; new writes wait for the journal writes in
   * flight to settle, about one sync): after a crash the open replays about
   * this many records at most.
   */
  checkpointEvery?: number;
  /** Upcasters per event type, run on every event read. */
  upcasters?: Record<string, Upcaster>;
  /** Told when the open had to rebuild the index from the log (a missing, damaged or stale checkpoint). */
  onWarning?: (warning: StoreWarning) => void;
}

/** The store's own keys, each listed once (the compiler checks), and the journal's. */
const STORE_KEYS: Record<Exclude<keyof EventStoreOptions, keyof JournalOptions>, true> = { idempotencyWindow: true, checkpointEvery: true, upcasters: true, onWarning: true };
const STORE_OPTION_KEYS: readonly string[] = [...Object.keys(STORE_KEYS), ...JOURNAL_OPTION_KEYS];

export const DEFAULT_STORE_OPTIONS = {
  idempotencyWindow: 1_000_000,
  checkpointEvery: 100_000,
};

export interface ResolvedStoreOptions {
  journal: JournalOptions;
  dir: string;
  io: FileIO;
  maxPayloadBytes: number;
  idempotencyWindow: number;
  checkpointEvery: number;
  upcasters: Upcasters;
  onWarning: ((warning: StoreWarning) => void) | undefined;
}

function nonNegativeInt(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new StoreInvalidArgumentError(`${name} must be an integer >= ${min}, not ${describeValue(value)}`);
  }
  return value;
}

/** Splits the store's own options from the journal's, checking the store's (the journal checks its own). */
export function resolveStoreOptions(options: EventStoreOptions): ResolvedStoreOptions {
  if (typeof options !== 'object' || options === null) throw new StoreInvalidArgumentError('openEventStore takes an options object with a dir');
  // a misspelt store or journal option (`checkpointEvry`, `archveDir`) is refused here, before the journal is opened or created
  checkOptionKeys('openEventStore', options, STORE_OPTION_KEYS);
  const { idempotencyWindow, checkpointEvery, upcasters, onWarning, ...journal } = options;
  if (typeof journal.dir !== 'string' || journal.dir.length === 0) throw new StoreInvalidArgumentError('dir must be a non-empty string');
  if (onWarning !== undefined && typeof onWarning !== 'function') throw new StoreInvalidArgumentError('onWarning must be a function');
  return {
    journal,
    dir: journal.dir,
    io: journal.io ?? nodeFileIO,
    maxPayloadBytes: journal.maxPayloadBytes ?? DEFAULT_OPTIONS.maxPayloadBytes,
    idempotencyWindow: nonNegativeInt('idempotencyWindow', idempotencyWindow, DEFAULT_STORE_OPTIONS.idempotencyWindow),
    checkpointEvery: nonNegativeInt('checkpointEvery', checkpointEvery, DEFAULT_STORE_OPTIONS.checkpointEvery, 1),
    upcasters: validateUpcasters(upcasters),
    onWarning,
  };
}
