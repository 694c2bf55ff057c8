import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEventStore } from '@episteme/store';
import { ConsumerErrorCodes, ConsumerRegistry } from '../src/index.js';
import { journalWith, quiet, tempDir } from './helpers.js';

/**
 * Cleanup deletes history, and only `autoCleanup: false` turns it off: a
 * misspelt key or a string would leave it on, silently, until a rebuild
 * from offset 0 finds its history gone. Such options are refused before
 * anything is read or written.
 */
describe('registry options that would not mean what they say', () => {
  const bad: Array<[string, object, RegExp]> = [
    ['a misspelt autoCleanup', { autoClenaup: false }, /has no option "autoClenaup" \(it takes "autoCleanup", "logger", "now"/],
    ['autoCleanup as a string', { autoCleanup: 'false' }, /autoCleanup must be true or false, not "false"/],
    ['autoCleanup as a number', { autoCleanup: 0 }, /autoCleanup must be true or false, not 0/],
    ['autoCleanup null', { autoCleanup: null }, /autoCleanup must be true or false, not null/],
  ];

  it.each(bad)('%s: forJournal refuses it with CONSUMER_INVALID_ARGUMENT, and no cursor file or directory is made', async (_, options, message) => {
    const journal = await journalWith(20);
    expect(() => ConsumerRegistry.forJournal(journal, options as never)).toThrow(expect.objectContaining({ code: ConsumerErrorCodes.InvalidArgument, message: expect.stringMatching(message) }));
    expect(existsSync(join(journal.dir, 'consumers'))).toBe(false);
    // nothing was deleted either: every record is still there
    expect(journal.earliest).toBe(0);
  });

  it.each(bad)('%s: the constructor refuses it too', async (_, options, message) => {
    const journal = await journalWith(5);
    const parts = { log: journal, cursors: ConsumerRegistry.forJournal(journal, { logger: quiet }).store, retention: journal };
    expect(() => new ConsumerRegistry(parts, options as never)).toThrow(expect.objectContaining({ code: ConsumerErrorCodes.InvalidArgument, message: expect.stringMatching(message) }));
  });

  it('forStore refuses a misspelt key before the cursor directory is made', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir });
    try {
      const before = readdirSync(dir).sort();
      expect(() => ConsumerRegistry.forStore(store, { lgger: quiet } as never)).toThrow(expect.objectContaining({ code: ConsumerErrorCodes.InvalidArgument, message: expect.stringContaining('ConsumerRegistry.forStore has no option "lgger"') }));
      expect(readdirSync(dir).sort()).toEqual(before);
    } finally {
      await store.close();
    }
  });

  it('register refuses a misspelt startFrom (it would start at the earliest record, silently), and writes no cursor', async () => {
    const journal = await journalWith(5);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    expect(() => registry.register('c', { startFom: 'latest' } as never)).toThrow(expect.objectContaining({ code: ConsumerErrorCodes.InvalidArgument, message: expect.stringContaining('register has no option "startFom"') }));
    expect(registry.list()).toEqual([]);
  });

  it('autoCleanup false and true are taken', async () => {
    const journal = await journalWith(5);
    expect(() => ConsumerRegistry.forJournal(journal, { autoCleanup: false, logger: quiet })).not.toThrow();
    expect(() => ConsumerRegistry.forJournal(journal, { autoCleanup: true, logger: quiet })).not.toThrow();
  });
});
