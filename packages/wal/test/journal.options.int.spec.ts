/**
 * Journal.open's options that a caller may get wrong without a type error
 * (a config file's strings, a computed value): refused with
 * WAL_INVALID_ARGUMENT naming the option, and nothing created.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, type JournalOptions } from '../src/index.js';
import { tempDir } from './helpers.js';

const cases: Array<[string, Partial<JournalOptions> | Record<string, unknown>, RegExp]> = [
  // Node would run a timer of 2^31 ms or more after 1 ms: a follower would poll in a busy loop
  ['pollIntervalMs 2^31', { pollIntervalMs: 2 ** 31 }, /pollIntervalMs must be an integer from 1 to 2147483647 \(ms\), not 2147483648/],
  ['pollIntervalMs 0', { pollIntervalMs: 0 }, /pollIntervalMs must be an integer from 1/],
  ['groupCommit.maxDelayMs 2^31', { groupCommit: { maxDelayMs: 2 ** 31 } }, /groupCommit\.maxDelayMs must be an integer from 0 to 2147483647/],
  ['groupCommit.maxDelayMs -1', { groupCommit: { maxDelayMs: -1 } }, /groupCommit\.maxDelayMs must be an integer from 0/],
  // a string from a config file: 'true' must not open a writer, nor 'false' a reader
  ['readOnly "true"', { readOnly: 'true' }, /readOnly must be true or false, not "true"/],
  ['repair 1', { repair: 1 }, /repair must be true or false, not 1/],
  ['scanSealedOnOpen "yes"', { scanSealedOnOpen: 'yes' }, /scanSealedOnOpen must be true, false or 'unverified', not "yes"/],
];

describe('Journal.open refuses', () => {
  it.each(cases)('%s: WAL_INVALID_ARGUMENT naming the option, nothing created', async (_what, options, message) => {
    const dir = join(tempDir(), 'journal');
    const err = await Journal.open({ dir, ...(options as Partial<JournalOptions>) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: WalErrorCodes.InvalidArgument, message: expect.stringMatching(message) });
    expect(existsSync(dir)).toBe(false);
  });

  it('takes the largest timer values Node runs as asked', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await Journal.open({ dir, pollIntervalMs: 2 ** 31 - 1, groupCommit: { maxDelayMs: 0 }, readOnly: false, scanSealedOnOpen: 'unverified' });
    await j.close();
  });
});
