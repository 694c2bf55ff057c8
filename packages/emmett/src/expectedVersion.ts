import { NO_CONCURRENCY_CHECK, STREAM_DOES_NOT_EXIST, STREAM_EXISTS, type ExpectedStreamVersion } from '@event-driven-io/emmett';
import type { ExpectedVersion } from '@episteme/store';
import { describeValue } from '@episteme/store/internals';
import { EmmettInvalidArgumentError } from './errors.js';

/**
 * Emmett's expected stream version as the store's: a bigint version (0n:
 * no stream, as Emmett's stores count), STREAM_DOES_NOT_EXIST,
 * STREAM_EXISTS, NO_CONCURRENCY_CHECK or none. Anything else (a number, a
 * negative bigint, another string) is a caller's mistake, refused before
 * anything is written, never read as "no check".
 */
export function toStoreExpectedVersion(expected: unknown): ExpectedVersion {
  if (expected === undefined || expected === NO_CONCURRENCY_CHECK) return 'any';
  if (expected === STREAM_DOES_NOT_EXIST) return 'no_stream';
  if (expected === STREAM_EXISTS) return 'stream_exists';
  if (typeof expected === 'bigint' && expected >= 0n && expected <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(expected);
  throw new EmmettInvalidArgumentError(
    `expectedStreamVersion must be a non-negative bigint, STREAM_EXISTS, STREAM_DOES_NOT_EXIST or NO_CONCURRENCY_CHECK, not ${describeValue(expected)}`,
  );
}

/** The same check for a read's expected version, which Emmett compares after the read. */
export function checkExpectedStreamVersion(expected: unknown): ExpectedStreamVersion | undefined {
  toStoreExpectedVersion(expected);
  return expected as ExpectedStreamVersion | undefined;
}
