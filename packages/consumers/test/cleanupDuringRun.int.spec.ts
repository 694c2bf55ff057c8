import { describe, expect, it } from 'vitest';
import { ConsumerRegistry, runConsumer } from '../src/index.js';
import { journalWith, quiet } from './helpers.js';

/** A handler's wait of about a millisecond: a run of a few hundred records spans many commits, even on a slow disk. */
const nextTurn = (): Promise<void> => new Promise((res) => setTimeout(res, 1));

/** How many times cleanup read the consumers' cursors (one readFloor per consumer each time). */
function countLooks(registry: ConsumerRegistry): () => number {
  const readFloor = registry.store.readFloor.bind(registry.store);
  let reads = 0;
  registry.store.readFloor = (name) => (reads++, readFloor(name));
  return () => reads;
}

describe("cleanup after a run's commits", () => {
  it('while another consumer holds the log, the commits of a run do not each read every cursor; its last commit cleans up, and nothing it needs was deleted', async () => {
    const journal = await journalWith(500, { maxSegmentBytes: 1024 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('holder'); // at 0: holds every segment
    registry.register('run');
    const reads = countLooks(registry);
    let commits = 0;
    const result = await runConsumer(registry, 'run', {
      handler: () => nextTurn(),
      commitEveryRecords: 20,
      onCommit: () => void commits++,
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'stopped', cursor: journal.head });
    expect(commits).toBeGreaterThan(10);
    // two cursors per look: far fewer looks than commits (one per second of the run, and the last commit's)
    expect(reads() / 2).toBeLessThan(commits / 2);
    expect(journal.earliest).toBe(0);
    // the holder moves on: its commit looks at once, and frees what both passed
    registry.commit('holder', journal.head);
    expect(journal.earliest).toBeGreaterThan(0);
  });

  it('a run holding the log itself cleans up as it goes: segments it passed are deleted during the run, not only at its end', async () => {
    const journal = await journalWith(500, { maxSegmentBytes: 1024 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('run');
    const earliestAtCommit: number[] = [];
    const result = await runConsumer(registry, 'run', {
      handler: () => nextTurn(),
      commitEveryRecords: 20,
      onCommit: () => void earliestAtCommit.push(journal.earliest),
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'stopped', cursor: journal.head });
    // the lowest cursor was the run's own at every look: each commit may free what it passed
    expect(earliestAtCommit.length).toBeGreaterThan(10);
    expect(earliestAtCommit.filter((e) => e > 0).length).toBeGreaterThan(earliestAtCommit.length / 2);
  });
});
