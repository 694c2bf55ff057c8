import { describe, expect, it } from 'vitest';
import { ConsumerErrorCodes, ConsumerRegistry, isConsumerError } from '../src/index.js';
import { journalWith, quiet, thrown } from './helpers.js';
import { snapshotDir } from '../../wal/test/helpers.js';

describe('ConsumerRegistry administration', () => {
  it('registers idempotently from earliest, latest or an offset, and lists cursor, head, lag and state', async () => {
    const journal = await journalWith(50);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    const a = registry.register('indexer');
    expect(a.cursor).toBe(0);
    registry.commit('indexer', journal.readMany(0, 10)[9]!.next);
    expect(registry.register('indexer', { startFrom: 'latest' }).cursor).toBe(journal.readMany(0, 10)[9]!.next);
    expect(registry.register('notifier', { startFrom: 'latest' }).cursor).toBe(journal.head);
    const third = journal.readMany(0, 3)[2]!.offset;
    expect(registry.register('exporter', { startFrom: third }).cursor).toBe(third);
    const list = registry.list();
    expect(list.map((c) => c.name)).toEqual(['exporter', 'indexer', 'notifier']);
    const indexer = list.find((c) => c.name === 'indexer')!;
    expect(indexer).toMatchObject({ head: journal.head, lagRecords: 40, state: 'registered' });
    expect(indexer.lagBytes).toBe(journal.head - indexer.cursor);
    expect(list.find((c) => c.name === 'notifier')).toMatchObject({ lagBytes: 0, lagRecords: 0 });
    expect(list.find((c) => c.name === 'exporter')!.lagRecords).toBe(48);
    expect(Date.parse(indexer.lastCommitAt)).not.toBeNaN();
  });

  it('resets to earliest, latest or an offset, and deletes', async () => {
    const journal = await journalWith(20);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('c', { startFrom: 'latest' });
    expect(registry.reset('c', 'earliest').cursor).toBe(journal.earliest);
    expect(registry.reset('c', 'latest').cursor).toBe(journal.head);
    const fifth = journal.readMany(0, 5)[4]!.offset;
    expect(registry.reset('c', fifth).cursor).toBe(fifth);
    registry.delete('c');
    expect(registry.list()).toEqual([]);
    expect(isConsumerError(thrown(() => registry.get('c')), ConsumerErrorCodes.NotFound)).toBe(true);
  });

  it('refuses a commit that moves a cursor backwards unless it is an explicit reset', async () => {
    const journal = await journalWith(20);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('c');
    const tenth = journal.readMany(0, 10)[9]!.offset;
    registry.commit('c', tenth);
    const err = thrown(() => registry.commit('c', 0));
    expect(isConsumerError(err, ConsumerErrorCodes.CursorBackwards)).toBe(true);
    expect(registry.get('c').cursor).toBe(tenth);
    expect(registry.reset('c', 0).cursor).toBe(0);
  });

  it('rejects every invalid name with a typed error and changes nothing on disk', async () => {
    const journal = await journalWith(5);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('ok');
    const before = snapshotDir(journal.dir);
    const bad: unknown[] = ['../x', '/etc/passwd', '', 'a\0b', '.hidden', 'a/b', 'a\\b', 'x'.repeat(65), 'sp ace', '..', 42, undefined];
    for (const name of bad) {
      for (const op of [
        () => registry.register(name as string),
        () => registry.get(name as string),
        () => registry.commit(name as string, 0),
        () => registry.reset(name as string, 'earliest'),
        () => registry.delete(name as string),
      ]) {
        const err = thrown(op);
        expect(isConsumerError(err, ConsumerErrorCodes.InvalidName), `${JSON.stringify(name)}: ${String(err)}`).toBe(true);
      }
    }
    expect(snapshotDir(journal.dir)).toEqual(before);
  });

  it('rejects every invalid offset with a typed error and changes nothing on disk', async () => {
    const journal = await journalWith(30, { maxSegmentBytes: 400 });
    const registry = new ConsumerRegistry(journal, { logger: quiet, autoCleanup: false });
    registry.register('c');
    registry.register('d');
    registry.commit('d', journal.readMany(0, 20)[19]!.offset);
    registry.cleanup();
    expect(journal.earliest).toBe(0); // c holds the log
    registry.delete('c');
    registry.cleanup();
    expect(journal.earliest).toBeGreaterThan(0);
    const before = snapshotDir(journal.dir);
    const badOffsets: unknown[] = [-1, 1.5, Number.NaN, '12', journal.head + 1, 3, journal.earliest - 1, 0];
    for (const offset of badOffsets) {
      const resetErr = thrown(() => registry.reset('d', offset as number));
      expect(isConsumerError(resetErr), `reset ${String(offset)}: ${String(resetErr)}`).toBe(true);
      const registerErr = thrown(() => registry.register('e', { startFrom: offset as number }));
      expect(isConsumerError(registerErr), `register ${String(offset)}: ${String(registerErr)}`).toBe(true);
    }
    const below = thrown(() => registry.reset('d', 0)) as Error;
    expect(below.message).toContain('below the earliest retained offset');
    expect(isConsumerError(thrown(() => registry.commit('d', journal.head + 1)), ConsumerErrorCodes.InvalidCursor)).toBe(true);
    expect(snapshotDir(journal.dir)).toEqual(before);
  });
});
