import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, isWalError } from '@episteme/wal';
import { ConsumerRegistry } from '../src/index.js';
import { journalWith, quiet, track } from './helpers.js';
import { spawnChild } from '../../wal/test/children/spawn.js';

/* What cleanup does over any log is in contract/cleanup.contract.spec.ts; here, a reader in another process. */
describe('cleanup driven by cursors', () => {
  it('a reader in another process reading a deleted segment gets a clear out-of-range error, not a crash', async () => {
    const journal = await journalWith(200, { maxSegmentBytes: 512 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
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
