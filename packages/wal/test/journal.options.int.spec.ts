/**
 * Journal.open's options that a caller may get wrong without a type error
 * (a config file's strings, a computed value): refused with
 * WAL_INVALID_ARGUMENT naming the option, and nothing created.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
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
  // the option that made Journal a reader is gone: an old call must not open a writer (recovery, a lock) where it asked for a reader
  ['readOnly true', { readOnly: true }, /the readOnly option is gone: .*Journal\.openForRead/],
  ['readOnly false', { readOnly: false }, /the readOnly option is gone: .*Journal\.openForRead/],
  ['readOnly "true"', { readOnly: 'true' }, /the readOnly option is gone: .*Journal\.openForRead/],
  ['repair 1', { repair: 1 }, /repair must be true or false, not 1/],
  ['scanSealedOnOpen "yes"', { scanSealedOnOpen: 'yes' }, /scanSealedOnOpen must be true, false or 'unverified', not "yes"/],
  // a config file's 'false' turned group commit on; 1 and 'off' too
  ['groupCommit "false"', { groupCommit: 'false' }, /groupCommit must be true, false or an object of batch limits, not "false"/],
  ['groupCommit 1', { groupCommit: 1 }, /groupCommit must be true, false or an object of batch limits, not 1/],
  ['groupCommit null', { groupCommit: null }, /groupCommit must be true, false or an object of batch limits, not null/],
  // a string that looks like a number is named as the string it is
  ['maxSegmentBytes "1000"', { maxSegmentBytes: '1000' }, /maxSegmentBytes must be a positive integer, not "1000"/],
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
    const j = await Journal.open({ dir, pollIntervalMs: 2 ** 31 - 1, groupCommit: { maxDelayMs: 0 }, scanSealedOnOpen: 'unverified' });
    await j.close();
  });
});

describe('bad arguments to a journal', () => {
  it('appendBatch([]) is refused where any append is: on a closed journal (WAL_CLOSED); a reader has no appendBatch at all', async () => {
    const dir = join(tempDir(), 'journal');
    const writer = await Journal.open({ dir });
    await writer.append(new Uint8Array([1]));
    const reader = await Journal.openForRead({ dir });
    // @ts-expect-error writing through a reader is a compile error
    expect(() => reader.appendBatch([])).toThrow(TypeError);
    for (const writing of ['append', 'appendBatch', 'sync', 'deleteBelow']) expect(writing in reader, writing).toBe(false);
    await reader.close();
    await writer.close();
    await expect(writer.appendBatch([])).rejects.toMatchObject({ code: WalErrorCodes.Closed });
  });

  it('readMany takes a non-negative integer count: -1, NaN and 1.5 are refused (they read 0, 0 and 2 records)', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await Journal.open({ dir });
    for (let i = 0; i < 3; i++) await j.append(new Uint8Array([i]));
    for (const bad of [-1, Number.NaN, 1.5]) expect(() => j.readMany(0, bad)).toThrow(expect.objectContaining({ code: WalErrorCodes.InvalidArgument }));
    expect(j.readMany(0, 0)).toEqual([]);
    expect(j.readMany(0, 2)).toHaveLength(2);
    await j.close();
  });
});

const openers: Array<[string, (o: { dir: string }) => Promise<unknown>]> = [
  ['writer', (o) => Journal.open(o)],
  ['reader', (o) => Journal.openForRead(o)],
];

describe('Journal.openForRead refuses', () => {
  it.each([
    ['no dir', {}, /Journal\.openForRead needs a `dir`/],
    ['pollIntervalMs 0', { pollIntervalMs: 0 }, /pollIntervalMs must be an integer from 1/],
    ['maxPayloadBytes -1', { maxPayloadBytes: -1 }, /maxPayloadBytes must be a positive integer/],
  ])('%s: WAL_INVALID_ARGUMENT naming the option, nothing created', async (what, options, message) => {
    const dir = join(tempDir(), 'journal');
    const err = await Journal.openForRead(what === 'no dir' ? (options as { dir: string }) : { dir, ...options }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: WalErrorCodes.InvalidArgument, message: expect.stringMatching(message) });
    expect(existsSync(dir)).toBe(false);
  });
});

describe('a misspelt option', () => {
  it.each([
    ['writer', (o: object) => Journal.open(o as JournalOptions), { durabilty: 'none' }, /Journal\.open has no option "durabilty" \(it takes "dir", "durability"/],
    ['writer, groupCommit', (o: object) => Journal.open(o as JournalOptions), { groupCommit: { maxBatchRecord: 8 } }, /groupCommit has no option "maxBatchRecord"/],
    ['reader', (o: object) => Journal.openForRead(o as JournalOptions), { folow: true }, /Journal\.openForRead has no option "folow"/],
  ])('%s: WAL_INVALID_ARGUMENT naming the key and the keys it takes, nothing created (it would have been its default, silently)', async (_, open, options, message) => {
    const dir = join(tempDir(), 'journal');
    const err = await open({ dir, ...options }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: WalErrorCodes.InvalidArgument, message: expect.stringMatching(message) });
    expect(existsSync(dir)).toBe(false);
  });

  it('a reader takes a writer\'s options as they are (they mean nothing to it)', async () => {
    const dir = join(tempDir(), 'journal');
    const options: JournalOptions = { dir, durability: 'none', groupCommit: true, maxSegmentBytes: 4096, preallocateBytes: 0, repair: false };
    await (await Journal.open(options)).close();
    await (await Journal.openForRead(options)).close();
  });

  it('of readMany and readFrom: refused (a misspelt follow would end at the head instead of following)', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await Journal.open({ dir });
    await j.append(new Uint8Array([1]));
    expect(() => j.readMany(0, 10, { transeint: true } as object)).toThrow(expect.objectContaining({ code: WalErrorCodes.InvalidArgument, message: expect.stringContaining('readMany has no option "transeint"') }));
    await expect(j.readFrom(0, { folow: true } as object).next()).rejects.toMatchObject({ code: WalErrorCodes.InvalidArgument, message: expect.stringContaining('readFrom has no option "folow"') });
    expect(j.readMany(0, 10, { transient: true })).toHaveLength(1);
    await j.close();
  });
});

describe('a directory that is not a journal', () => {
  it('holding other files and no segment: a reader refuses it as a writer does (it opened as an empty log), and changes nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    for (const [which, open] of openers) {
      const err = await open({ dir }).catch((e: unknown) => e);
      expect(err, which).toMatchObject({ code: WalErrorCodes.NotAJournal, message: expect.stringContaining('it holds other files (notes.txt) and no segment file') });
    }
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });
});

describe('DEFAULT_OPTIONS', () => {
  it('is frozen: a caller cannot change the defaults of every later open in the process', async () => {
    const { DEFAULT_OPTIONS } = await import('../src/index.js');
    expect(Object.isFrozen(DEFAULT_OPTIONS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_OPTIONS.groupCommit)).toBe(true);
    expect(() => {
      (DEFAULT_OPTIONS as { maxSegmentBytes: number }).maxSegmentBytes = 4096;
    }).toThrow(TypeError);
  });
});
