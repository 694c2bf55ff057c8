import { unknownOptionKey, unknownOptionMessage } from '@episteme/wal/internals';
import { StoreInvalidArgumentError } from './errors.js';

/**
 * Refuses an options object with a key the call does not take. A misspelt
 * `expectedVersoin: 7` would otherwise mean "no expected version": the
 * concurrency check silently off, which no caller wants. TypeScript catches
 * it at compile time only for object literals typed at the call.
 */
export function checkOptionKeys(call: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined) return;
  const key = unknownOptionKey(options, allowed);
  if (key !== undefined) throw new StoreInvalidArgumentError(unknownOptionMessage(call, key, allowed));
}
