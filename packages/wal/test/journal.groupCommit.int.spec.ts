import { describe, expect, it } from 'vitest';
import { Journal } from '../src/index.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { simDir } from './rng.js';

function countingDisk(): { disk: SimulatedDisk; counts: Record<string, number> } {
  const disk = new SimulatedDisk();
  const counts: Record<string, number> = {};
  // segment files only: the writer also overwrites PUBLISHED_HEAD (never synced)
  disk.inject = ({ op, path }) => {
    if (path.endsWith('.wal')) counts[op] = (counts[op] ?? 0) + 1;
    return undefined;
  };
  return { disk, counts };
}

async function appendConcurrently(journal: Journal, appenders: number, each: number): Promise<number[]> {
  const offsets: number[] = [];
  await Promise.all(
    Array.from({ length: appenders }, async (_, a) => {
      for (let i = 0; i < each; i++) offsets.push((await journal.append(Buffer.from(`a${a}-${i}`))).offset);
    }),
  );
  return offsets;
}

describe('group commit', () => {
  it('without group commit, immediate durability syncs once per append, in order', async () => {
    const { disk, counts } = countingDisk();
    const journal = await Journal.open({ dir: simDir(), io: disk });
    const before = counts.fsync ?? 0;
    const offsets = await appendConcurrently(journal, 8, 10);
    expect((counts.fsync ?? 0) - before).toBe(80);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets.slice().sort((a, b) => a - b));
    await journal.close();
  });

  it('with group commit, appends arriving during a sync share the next write and sync', async () => {
    const { disk, counts } = countingDisk();
    const journal = await Journal.open({ dir: simDir(), io: disk, groupCommit: true });
    const syncs = counts.fsync ?? 0;
    const writes = counts.write ?? 0;
    const offsets = await appendConcurrently(journal, 64, 10);
    expect(offsets).toHaveLength(640);
    expect(new Set(offsets).size).toBe(640);
    expect((counts.fsync ?? 0) - syncs).toBeLessThanOrEqual(640 / 32);
    expect((counts.write ?? 0) - writes).toBeLessThanOrEqual(640 / 16);
    await journal.close();
  });

  it('respects maxBatchRecords', async () => {
    const { disk, counts } = countingDisk();
    const journal = await Journal.open({ dir: simDir(), io: disk, groupCommit: { maxBatchRecords: 4 }, preallocateBytes: 0 });
    const syncs = counts.fsync ?? 0;
    await appendConcurrently(journal, 64, 2);
    expect((counts.fsync ?? 0) - syncs).toBeGreaterThanOrEqual(128 / 4);
    await journal.close();
  });

  it('makes a record visible to readers only once its append has resolved', async () => {
    const disk = new SimulatedDisk();
    const journal = await Journal.open({ dir: simDir(), io: disk, groupCommit: true });
    await journal.append(Buffer.from('first'));
    const head = journal.head;
    const pending = journal.append(Buffer.from('second'));
    let resolved = false;
    void pending.then(() => (resolved = true));
    // the write may have happened, the sync is in flight: not visible yet
    await Promise.resolve();
    expect(resolved).toBe(false);
    expect(journal.head).toBe(head);
    expect(journal.read(head)).toBeUndefined();
    const appended = await pending;
    expect(appended.offset).toBe(head);
    expect(Buffer.from(journal.read(head)!.payload).toString()).toBe('second');
    await journal.close();
  });

  it('with durability none, appends made in the same tick share one write', async () => {
    const { disk, counts } = countingDisk();
    const journal = await Journal.open({ dir: simDir(), io: disk, durability: 'none', preallocateBytes: 0 });
    const writes = counts.write ?? 0;
    const offsets = await Promise.all(Array.from({ length: 100 }, (_, i) => journal.append(Buffer.from(`n${i}`))));
    expect(offsets.length).toBe(100);
    expect((counts.write ?? 0) - writes).toBe(1);
    expect(counts.fsync ?? 0).toBeGreaterThan(0); // the segment header at creation
    const syncs = counts.fsync!;
    await journal.sync();
    expect(counts.fsync).toBe(syncs + 1);
    await journal.close();
  });
});
