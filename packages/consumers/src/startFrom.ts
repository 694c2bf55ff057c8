import { unknownOptionKey, unknownOptionMessage } from '@episteme/wal/internals';
import { InvalidConsumerArgumentError } from './errors.js';

/** Where a new consumer starts (or a reset moves one): the earliest retained record, the head, or an offset. */
export type StartFrom = 'earliest' | 'latest' | number;

/**
 * Throws InvalidConsumerArgumentError unless `to` has the shape of a
 * position. An offset's range and record boundary are checked where it is
 * used (InvalidCursorError), against the log as it is then.
 */
export function checkStartFrom(to: unknown): StartFrom {
  if (to !== 'earliest' && to !== 'latest' && typeof to !== 'number') {
    throw new InvalidConsumerArgumentError(`a position is 'earliest', 'latest' or an offset, not ${describe(to)}`);
  }
  return to;
}

/** `register`'s options: an object, if given, whose `startFrom` (if given) is a position. */
const REGISTER_KEYS: readonly string[] = ['startFrom'];

export function checkRegisterOptions(options: unknown): StartFrom {
  if (options === undefined) return 'earliest';
  if (options === null || typeof options !== 'object') {
    throw new InvalidConsumerArgumentError(`register's options must be an object, not ${describe(options)}`);
  }
  // a misspelt `startFom: 'latest'` would start at the earliest record, silently
  const unknown = unknownOptionKey(options, REGISTER_KEYS);
  if (unknown !== undefined) throw new InvalidConsumerArgumentError(unknownOptionMessage('register', unknown, REGISTER_KEYS));
  const { startFrom } = options as { startFrom?: unknown };
  // undefined only: a null is a mistake to report, not a request for the default
  return startFrom === undefined ? 'earliest' : checkStartFrom(startFrom);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
