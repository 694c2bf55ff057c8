/**
 * The one error model of every Episteme package: a stable `code` (part of
 * the public contract; messages are not) and a `category` that says what
 * kind of failure it is, so that a caller (a CLI's exit code, a retry loop)
 * decides by kind without keeping its own list of codes.
 *
 * This module imports nothing: it is also the `@episteme/wal/errors` entry,
 * for code (the app's import workers) that defines errors without loading the log.
 */

/**
 * What kind of failure an error is:
 * - `invalid-input`: the call was wrong (a bad argument, option or position); nothing was changed.
 * - `not-found`: what was named (a journal, a consumer, a projection) does not exist.
 * - `conflict`: another writer or process holds what was asked for.
 * - `corrupt`: data on disk is damaged.
 * - `io`: the operating system failed a read, write or sync.
 * - `state`: the object or the data is in a state that refuses the call (closed, failed, busy, history deleted).
 */
export type ErrorCategory = 'invalid-input' | 'not-found' | 'conflict' | 'corrupt' | 'io' | 'state';

/**
 * A registered symbol, not a module-local one: two copies of this module (two
 * installed versions of @episteme/wal, a bundle next to node_modules) brand
 * with the same key, where `instanceof` would see two unrelated classes.
 */
const BRAND = Symbol.for('episteme.error');

/** `Code`: the union of a package's codes, so that its errors' `code` is typed as one of them. */
export class EpistemeError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly category: ErrorCategory;

  constructor(code: Code, category: ErrorCategory, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.category = category;
    this.name = new.target.name;
    // not enumerable: it stays out of JSON, of spreads and of deep-equality in tests
    Object.defineProperty(this, BRAND, { value: true });
  }

  toJSON(): { code: Code; message: string } {
    return { code: this.code, message: this.message };
  }
}

/**
 * Whether `err` is an error of any Episteme package (of any copy of it), and
 * when `code` is given, of that code. Checks the brand, not the prototype.
 * `E` names the class that throws `code`, for the caller's types only: the
 * check is the brand and the code (`isEpistemeError<CorruptCursorError>(err,
 * 'CONSUMER_CORRUPT_CURSOR')`).
 */
export function isEpistemeError<E extends EpistemeError = EpistemeError>(err: unknown, code?: E['code']): err is E {
  if (typeof err !== 'object' || err === null || (err as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (err as E).code === code;
}

/**
 * The exit code of a command line tool that stopped on an error of this
 * category: 2 when what the user typed was wrong or names nothing (nothing
 * was changed; both CLIs document 2 as "usage error or bad input"), 1 for a
 * problem with the data or the machine.
 */
export function exitCodeOfCategory(category: ErrorCategory): 1 | 2 {
  return category === 'invalid-input' || category === 'not-found' ? 2 : 1;
}
