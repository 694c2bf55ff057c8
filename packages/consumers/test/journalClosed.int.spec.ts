import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { ConsumerRegistry, runConsumer } from '../src/index.js';
import { journalWith, quiet, track } from './helpers.js';

/** Resolves once `check` holds, looking after each macrotask (no clock involved). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((res) => setImmediate(res));
}

/** The consumer as a registry on the reopened journal lists it (after an ordinary shutdown and restart). */
async function afterRestart(dir: string, name: string): Promise<unknown> {
  const journal = track(await Journal.open({ dir }));
  const info = ConsumerRegistry.forJournal(journal, { logger: quiet }).list().find((c) => c.name === name);
  await journal.close();
  return info;
}

// Before the fix, both runs ended as failed with "WAL_CLOSED the journal is closed",
// and that state was persisted: list() after the restart showed a failed consumer.
describe('closing the journal under a running consumer (an ordinary shutdown)', () => {
  it('ends a run that waits at the head as stopped, its cursor committed, not failed', async () => {
    const journal = await journalWith(30, { maxSegmentBytes: 256 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('f');
    let handled = 0;
    const run = runConsumer(registry, 'f', { handler: () => void handled++, commitEveryRecords: 1_000_000, commitEveryMs: 60_000 });
    await until(() => handled === 30);
    const head = journal.head;
    await journal.close();
    const result = await run;
    expect(result).toMatchObject({ state: 'stopped', handled: 30, cursor: head });
    expect(result.error).toBeUndefined();
    const info = await afterRestart(journal.dir, 'f');
    expect(info).toMatchObject({ state: 'stopped', cursor: head, lagRecords: 0 });
    expect(info).not.toHaveProperty('error');
  });

  it('ends a run whose handler was busy when the journal closed as stopped, just past the last record handled', async () => {
    const journal = await journalWith(30, { maxSegmentBytes: 256 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('f');
    const records = journal.readMany(0, 1000);
    let handled = 0;
    const result = await runConsumer(registry, 'f', {
      handler: async () => {
        // the app shuts down while the 10th record is being handled
        if (++handled === 10) await journal.close();
      },
      batchSize: 4,
      commitEveryRecords: 3, // commits in flight while the journal closes
    });
    expect(result.state).toBe('stopped');
    expect(result.error).toBeUndefined();
    // the rest of the batch in hand was handled; nothing after it was read
    expect(result.handled).toBe(12);
    expect(result.cursor).toBe(records[11]!.next);
    expect(await afterRestart(journal.dir, 'f')).toMatchObject({ state: 'stopped', cursor: records[11]!.next });
  });
});
