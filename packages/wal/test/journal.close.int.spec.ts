/**
 * close() is idempotent in the way a caller relies on: every call, also one
 * made while an earlier close is still waiting for pending appends, settles
 * only when the journal is closed (its lock released, so a new writer can
 * open), and with the same outcome.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../src/index.js';
import { LOCK_FILE } from '../src/internals.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { payloadOf, tempDir } from './helpers.js';
import { simDir } from './rng.js';

describe('Journal.close', () => {
  it('a second close() while the first waits for pending appends settles only once the lock is released; a writer then opens', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, groupCommit: true });
    const appends = Array.from({ length: 2000 }, (_, i) => j.append(payloadOf(i, 64)));
    const first = j.close();
    await j.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await first;
    expect((await Promise.allSettled(appends)).every((r) => r.status === 'fulfilled')).toBe(true);
    const again = await Journal.open({ dir });
    expect(again.countRecords(0)).toBe(2000);
    await again.close();
    await again.close(); // after it settled, too
  });

  it('a close that fails gives its error to every caller, not only to the first', async () => {
    const disk = new SimulatedDisk();
    const j = await Journal.open({ dir: simDir(), io: disk, durability: 'none', preallocateBytes: 0 });
    await j.append(payloadOf(1, 64));
    disk.inject = ({ op }) => (op === 'fsync' ? { error: 'EIO' } : undefined);
    const [a, b] = await Promise.allSettled([j.close(), j.close()]);
    disk.inject = undefined;
    expect(a).toMatchObject({ status: 'rejected' });
    expect(b).toEqual(a);
  });
});
