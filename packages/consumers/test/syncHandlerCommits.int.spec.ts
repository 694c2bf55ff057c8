import { describe, expect, it } from 'vitest';
import { ConsumerRegistry, runConsumer } from '../src/index.js';
import { journalWith, quiet } from './helpers.js';

/** Spins for `ms` without yielding: a handler that never awaits. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the commits of a handler that never awaits', () => {
  it('are seen durable at the runner\'s own pauses: a long catch-up commits as it goes, each commit at or behind what was handled', async () => {
    const journal = await journalWith(1500, { size: 64 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('sync');
    const commits: { cursor: number; at: number }[] = [];
    let handled = 0;
    const offsets: number[] = [];
    const result = await runConsumer(registry, 'sync', {
      // ~0.1 ms a record, ~150 ms in all: the run yields only because the runner pauses it every 10 ms
      handler: (record) => {
        busy(0.1);
        handled++;
        offsets.push(record.next);
      },
      commitEveryRecords: 50,
      onCommit: (cursor) => void commits.push({ cursor, at: handled }),
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'stopped', cursor: journal.head, handled: 1500 });
    // committed during the run, not only at its end: one commit in flight at a time, seen every 10 ms or so
    expect(commits.length).toBeGreaterThanOrEqual(4);
    for (const c of commits) {
      // never ahead of the records handled when it was reported, and on a record boundary
      expect(offsets.slice(0, c.at)).toContain(c.cursor);
    }
    expect(commits.map((c) => c.cursor)).toEqual([...commits.map((c) => c.cursor)].sort((a, b) => a - b));
  });
});
