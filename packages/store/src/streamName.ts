import { InvalidStreamNameError } from './errors.js';

/** Longest stream name, in characters (all ASCII, so also in bytes). */
export const MAX_STREAM_NAME_LENGTH = 200;

/**
 * The allow-list: letters, digits and `- _ . : @ / + = ~ #`. A name starts
 * with a letter or digit, which keeps `$` free for streams the store may
 * define itself (`$all`, `$deleted`) and keeps names safe in a CLI argument,
 * a file name and a NATS subject after escaping.
 */
const ALLOWED = /^[A-Za-z0-9][A-Za-z0-9\-_.:@/+=~#]*$/;

/** Throws STORE_INVALID_STREAM_NAME unless `name` is a valid stream name. */
export function validateStreamName(name: unknown): string {
  if (typeof name !== 'string') throw new InvalidStreamNameError(name, 'a stream name is a string');
  if (name.length === 0) throw new InvalidStreamNameError(name, 'empty');
  if (name.length > MAX_STREAM_NAME_LENGTH) throw new InvalidStreamNameError(name, `longer than ${MAX_STREAM_NAME_LENGTH} characters`);
  if (!ALLOWED.test(name)) throw new InvalidStreamNameError(name, 'only letters, digits and - _ . : @ / + = ~ # are allowed, starting with a letter or digit');
  return name;
}
