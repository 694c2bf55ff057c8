import { InvalidConsumerNameError } from './errors.js';

/** Letters, digits, `.`, `_`, `-`; starting with a letter or digit; at most 64 characters. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAX_CONSUMER_NAME_LENGTH = 64;

/**
 * Consumer names become file names, so they are held to an allow-list: no
 * separator, no leading dot, no NUL, nothing that can reach outside the
 * consumers directory (`../x`, `/etc/passwd`).
 */
export function validateConsumerName(name: unknown): string {
  if (typeof name !== 'string') throw new InvalidConsumerNameError(name, 'a name must be a string');
  if (name.length === 0) throw new InvalidConsumerNameError(name, 'a name cannot be empty');
  if (name.length > MAX_CONSUMER_NAME_LENGTH) {
    throw new InvalidConsumerNameError(name, `longer than ${MAX_CONSUMER_NAME_LENGTH} characters`);
  }
  if (!NAME.test(name)) {
    throw new InvalidConsumerNameError(name, 'use letters, digits, ".", "_" and "-", starting with a letter or digit');
  }
  return name;
}
