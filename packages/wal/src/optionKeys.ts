import { InvalidArgumentError } from './errors.js';

/**
 * The first key of `options` that `allowed` does not hold, if any. A
 * misspelt option would otherwise be its default, silently: `{ durabilty:
 * 'none' }` an immediate journal, `{ autoClenaup: false }` a registry that
 * deletes history. TypeScript catches it only in an object literal typed at
 * the call, not in options read from a config file or spread from another
 * object. Shared by the packages above, each with its own typed error.
 */
export function unknownOptionKey(options: object, allowed: readonly string[]): string | undefined {
  for (const key of Object.keys(options)) if (!allowed.includes(key)) return key;
  return undefined;
}

/** How an unknown option is told: the call, the key, and the keys it takes. */
export function unknownOptionMessage(call: string, key: string, allowed: readonly string[]): string {
  return `${call} has no option "${key}" (it takes ${allowed.map((k) => `"${k}"`).join(', ')})`;
}

/** Refuses (WAL_INVALID_ARGUMENT) an options object with a key `call` does not take. */
export function checkOptionKeys(call: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined || options === null || typeof options !== 'object') return;
  const key = unknownOptionKey(options, allowed);
  if (key !== undefined) throw new InvalidArgumentError(unknownOptionMessage(call, key, allowed));
}
