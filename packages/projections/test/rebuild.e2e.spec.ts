import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { InMemorySnapshotStore, ProjectionEngine } from '../src/index.js';
import { canonicalHash, quiet, tally, tempDir, encode } from './helpers.js';
import { spawnChild } from '../../wal/test/children/spawn.js';
import { FileSnapshotStore } from '../src/index.js';

const CHILD = '../../../projections/test/children/rebuilder.ts';
/**
 * Enough that a rebuild outlasts the engine's 200 ms progress interval on a
 * fast, idle machine: rebuilds with transient reads run at up to ~1M
 * events/s here, and 100,000 events once finished before the first progress
 * line (fresh-clone CI, 1 failure).
 */
const EVENTS = 400_000;

describe('a rebuild interrupted by SIGKILL', () => {
  it('leaves the old snapshot or the finished new one, and the restarted app reaches the correct state', async () => {
    const dir = tempDir();
    const journal = await Journal.open({ dir, durability: 'none' });
    await journal.appendBatch(Array.from({ length: EVENTS }, (_, i) => encode({ type: `t${i % 7}`, n: i })));
    await journal.close();

    // version 1 built completely
    const v1 = spawnChild(CHILD, [dir, '1']);
    expect(await v1.waitFor((l) => l.startsWith('ready '))).toMatch(/^ready rebuilt /);
    await v1.exited;
    const store = new FileSnapshotStore(dir);
    expect(store.load('tally')!.version).toBe(1);

    // version 2: killed in the middle of its rebuild, several times
    let interrupted = 0;
    for (let kill = 0; kill < 3; kill++) {
      const child = spawnChild(CHILD, [dir, '2', 'pause']);
      const line = await child.waitFor((l) => (l.startsWith('progress ') && Number(l.split(' ')[1]) > 0) || l.startsWith('ready '));
      child.proc.kill('SIGKILL');
      await child.exited;
      const snap = store.load('tally')!;
      // the old snapshot, or (if the kill came after the end) the finished new one
      expect(snap.version === 1 || (snap.version === 2 && snap.events === EVENTS)).toBe(true);
      if (line.startsWith('ready ')) break;
      if (snap.version === 1) interrupted++;
    }
    expect(interrupted).toBeGreaterThan(0);

    const final = spawnChild(CHILD, [dir, '2']);
    expect(await final.waitFor((l) => l.startsWith('ready '))).toMatch(/^ready (rebuilt|resumed) /);
    await final.exited;

    const check = await Journal.openForRead({ dir });
    const fresh = ProjectionEngine.forJournal(check, { store: new InMemorySnapshotStore(), logger: quiet });
    fresh.register(tally(2));
    await fresh.start({ follow: false });
    const snap = store.load('tally')!;
    expect(snap).toMatchObject({ version: 2, checkpoint: check.head, events: EVENTS });
    expect(canonicalHash(snap.state)).toBe(canonicalHash(fresh.query('tally').state));
    await check.close();
  });
});
