import { StoreInvalidArgumentError, VersionConflictError } from './errors.js';
import type { ExpectedVersion } from './types.js';
import { describeValue } from './describeValue.js';

/** Throws STORE_INVALID_ARGUMENT for anything that is not an ExpectedVersion. */
export function validateExpectedVersion(expected: unknown): ExpectedVersion {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw new StoreInvalidArgumentError(`expectedVersion must be a non-negative integer, 'no_stream', 'stream_exists' or 'any', not ${describeValue(expected)}`);
}

/** True when a stream at `actual` (0: no stream) satisfies `expected`. */
export function matchesExpectedVersion(expected: ExpectedVersion, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === 0;
    case 'stream_exists':
      return actual > 0;
    default:
      return actual === expected;
  }
}

/** Throws STORE_VERSION_CONFLICT unless the stream at `actual` satisfies `expected`. */
export function assertExpectedVersion(stream: string, expected: ExpectedVersion, actual: number): void {
  if (!matchesExpectedVersion(expected, actual)) throw new VersionConflictError(stream, expected, actual);
}
