import type { ReadStreamOptions } from '@episteme/store';
import { describeValue } from '@episteme/store/internals';
import { EmmettInvalidArgumentError } from './errors.js';

/**
 * Emmett's read range as the store's. In Emmett's in-memory store (the
 * reference this package is checked against) `from` is how many events to
 * skip and `to` the last position to return: `{ from: 2n, to: 5n }` reads
 * positions 3, 4 and 5; `maxCount` without `to` ends the range at
 * `from + maxCount` (a `maxCount` of 0n is no limit). The store counts
 * positions from 1, both ends inclusive. A range that ends before it starts
 * reads nothing (the stream's version and existence are still reported).
 */
export function toStoreRange(options: { from?: unknown; to?: unknown; maxCount?: unknown } | undefined): ReadStreamOptions {
  const from = position('from', options?.from) ?? 0;
  const maxCount = position('maxCount', options?.maxCount);
  const to = position('to', options?.to) ?? (maxCount ? from + maxCount : undefined);
  if (to !== undefined && to <= from) return { from: 1, maxCount: 0 };
  return to === undefined ? { from: from + 1 } : { from: from + 1, to };
}

/** A bigint (or a safe integer: Emmett's stores read it with Number()) that is not negative. */
function position(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw new EmmettInvalidArgumentError(`readStream's ${name} must be a non-negative bigint, not ${describeValue(v)}`);
}
