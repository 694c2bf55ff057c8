import { StoreInvalidArgumentError } from './errors.js';

/**
 * Refuses an options object with a key the call does not take. A misspelt
 * `expectedVersoin: 7` would otherwise mean "no expected version": the
 * concurrency check silently off, which no caller wants. TypeScript catches
 * it at compile time only for object literals typed at the call.
 */
export function checkOptionKeys(call: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined) return;
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new StoreInvalidArgumentError(`${call} has no option "${key}" (it takes ${allowed.map((k) => `"${k}"`).join(', ')})`);
    }
  }
}
