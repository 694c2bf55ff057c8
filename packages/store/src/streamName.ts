import { InvalidStreamNameError } from './errors.js';

/** Longest stream name, in characters (all ASCII, so also in bytes). */
export const MAX_STREAM_NAME_LENGTH = 200;

/**
 * The allow-list: letters, digits and `- _ . : @ / + = ~ #`. A name starts
 * with a letter or digit, which keeps `$` free for streams the store may
 * define itself (`$all`, `$deleted`) and keeps names safe in a CLI argument,
 * a file name and a NATS subject after escaping.
 */
export const ALLOWED = /^[A-Za-z0-9][A-Za-z0-9\-_.:@/+=~#]*$/;

/** Per character code below 128: 2 for a letter or digit (allowed first), 1 for the other allowed ones, 0 for the rest. */
const NAME_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_CHARS[c] = /[A-Za-z0-9]/.test(ch) ? 2 : /[\-_.:@/+=~#]/.test(ch) ? 1 : 0;
}

/** Whether the allow-list takes character `code` at a name's start (`first`) or after it: ALLOWED, one character at a time. */
export function isStreamNameChar(code: number, first: boolean): boolean {
  return code < 128 && NAME_CHARS[code]! >= (first ? 2 : 1);
}

/** Whether `name` is a valid stream name: ALLOWED's test, a character at a time (the regex cost as much again per append). */
function isValidStreamName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_STREAM_NAME_LENGTH) return false;
  for (let k = 0; k < name.length; k++) if (!isStreamNameChar(name.charCodeAt(k), k === 0)) return false;
  return true;
}

/** Throws STORE_INVALID_STREAM_NAME unless `name` is a valid stream name. */
export function validateStreamName(name: unknown): string {
  if (isValidStreamName(name)) return name;
  // why it is not one: the checks in the order a user reads them
  if (typeof name !== 'string') throw new InvalidStreamNameError(name, 'a stream name is a string');
  if (name.length === 0) throw new InvalidStreamNameError(name, 'empty');
  if (name.length > MAX_STREAM_NAME_LENGTH) throw new InvalidStreamNameError(name, `longer than ${MAX_STREAM_NAME_LENGTH} characters`);
  if (!ALLOWED.test(name)) throw new InvalidStreamNameError(name, 'only letters, digits and - _ . : @ / + = ~ # are allowed, starting with a letter or digit');
  return name;
}
