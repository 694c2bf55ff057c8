import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, isWalError } from '@episteme/wal';
import { ConsumerRegistry } from '../src/index.js';
import { journalWith, quiet, track } from './helpers.js';
import { spawnChild } from '../../wal/test/children/spawn.js';

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();

describe('cleanup driven by cursors', () => {
  it('deletes nothing without consumers, only segments below the lowest cursor with two, and releases them when the slow one is deleted', async () => {
    const journal = await journalWith(200, { maxSegmentBytes: 512 });
    const all = segments(journal.dir);
    expect(all.length).toBeGreaterThan(10);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    expect(registry.cleanup()).toEqual([]);
    expect(segments(journal.dir)).toEqual(all);

    const records = journal.readMany(0, 1000);
    registry.register('slow');
    registry.register('fast');
    registry.commit('slow', records[40]!.offset);
    registry.commit('fast', records[150]!.offset);
    const slowCursor = records[40]!.offset;
    // only whole segments below the slow cursor are gone
    const left = segments(journal.dir);
    expect(journal.earliest).toBeLessThanOrEqual(slowCursor);
    for (const name of all.filter((n) => !left.includes(n))) {
      const next = all[all.indexOf(name) + 1]!;
      expect(Number.parseInt(next.slice(0, 16), 16)).toBeLessThanOrEqual(slowCursor);
    }
    expect(journal.read(slowCursor)).toBeDefined();

    registry.delete('slow');
    expect(journal.earliest).toBeGreaterThan(slowCursor);
    expect(journal.earliest).toBeLessThanOrEqual(records[150]!.offset);

    // the active segment is never deleted, even when every consumer is at the head
    registry.commit('fast', journal.head);
    expect(segments(journal.dir)).toEqual([all[all.length - 1]]);
    expect((await journal.append(Buffer.from('still writable'))).offset).toBe(journal.head - 54);
  });

  it('a failed consumer holds the log', async () => {
    const journal = await journalWith(100, { maxSegmentBytes: 512 });
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('stuck');
    registry.register('ok', { startFrom: 'latest' });
    registry.commit('stuck', 0, { state: 'failed', error: 'boom' });
    registry.cleanup();
    expect(journal.earliest).toBe(0);
  });

  it('a reader in another process reading a deleted segment gets a clear out-of-range error, not a crash', async () => {
    const journal = await journalWith(200, { maxSegmentBytes: 512 });
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('c');
    const child = spawnChild('slowReader.ts', [journal.dir]);
    await child.waitFor((l) => l.startsWith('read '));
    registry.commit('c', journal.readMany(0, 1000)[180]!.offset);
    expect(journal.earliest).toBeGreaterThan(0);
    const line = await child.waitFor((l) => l.startsWith('error ') || l.startsWith('done'));
    expect(line).toMatch(/^error WAL_OFFSET_OUT_OF_RANGE /);
    expect(await child.exited).toBe(0);
    const reader = track(await Journal.openForRead({ dir: journal.dir }));
    const err = (() => {
      try {
        reader.read(0);
      } catch (e) {
        return e;
      }
    })();
    expect(isWalError(err, WalErrorCodes.OffsetOutOfRange)).toBe(true);
  });
});
