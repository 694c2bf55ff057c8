import { describe, expect, it } from 'vitest';
import { nodeFileIO, type FileIO, type JournalRecord } from '@episteme/wal';
import { ConsumerRegistry, runConsumer } from '../src/index.js';
import { journalWith, quiet } from './helpers.js';

describe('runConsumer', () => {
  it('delivers every record once, in offset order, and commits after the handler succeeds', async () => {
    const journal = await journalWith(100);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('c');
    const expected = journal.readMany(0, 1000).map((r) => r.offset);
    const seen: number[] = [];
    const result = await runConsumer(registry, 'c', {
      handler: (r) => {
        // the cursor is never past a record still being handled
        expect(registry.get('c').cursor).toBeLessThanOrEqual(r.offset);
        seen.push(r.offset);
      },
      commitEveryRecords: 7,
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'stopped', handled: 100, cursor: journal.head });
    expect(seen).toEqual(expected);
    expect(registry.list()[0]).toMatchObject({ state: 'stopped', cursor: journal.head, lagRecords: 0 });
  });

  it('hands batches to a batch handler and follows the head as new records become durable', async () => {
    const journal = await journalWith(10);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('b');
    const ac = new AbortController();
    const batches: JournalRecord[][] = [];
    const running = runConsumer(registry, 'b', {
      batchHandler: (rs) => {
        batches.push(rs);
        if (batches.flat().length === 25) ac.abort();
      },
      batchSize: 4,
      signal: ac.signal,
    });
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 15; i++) await journal.append(Buffer.from(`late-${i}`));
    const result = await running;
    expect(result.state).toBe('stopped');
    expect(batches.every((b) => b.length <= 4)).toBe(true);
    const offsets = batches.flat().map((r) => r.offset);
    expect(offsets).toHaveLength(25);
    expect(offsets[0]).toBe(0);
    for (let i = 1; i < 25; i++) expect(offsets[i]).toBe(batches.flat()[i - 1]!.next);
    expect(batches.flat()[24]!.next).toBe(journal.head);
    expect(registry.get('b').cursor).toBe(journal.head);
  });

  it('retries a failing handler with backoff, then stops failed with the error visible and the failed record not committed', async () => {
    const journal = await journalWith(10);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('f');
    const poison = journal.readMany(0, 10)[4]!;
    let attempts = 0;
    const result = await runConsumer(registry, 'f', {
      handler: (r) => {
        if (r.offset === poison.offset) {
          attempts++;
          throw new Error('cannot index record 4');
        }
      },
      commitEveryRecords: 1,
      retry: { maxAttempts: 3, initialDelayMs: 1 },
    });
    expect(attempts).toBe(3);
    expect(result.state).toBe('failed');
    expect(result.cursor).toBe(poison.offset);
    const info = registry.list()[0]!;
    expect(info).toMatchObject({ state: 'failed', cursor: poison.offset, error: 'cannot index record 4' });
    // a restart resumes at the failed record, never after it
    const again: number[] = [];
    await runConsumer(registry, 'f', { handler: (r) => void again.push(r.offset), stopAtHead: true });
    expect(again[0]).toBe(poison.offset);
    expect(registry.list()[0]!.state).toBe('stopped');
  });

  it('stops cleanly on abort, committing the records it finished', async () => {
    const journal = await journalWith(50);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('s');
    const ac = new AbortController();
    let last: JournalRecord | undefined;
    const result = await runConsumer(registry, 's', {
      handler: (r) => {
        last = r;
        if (r.offset >= 600) ac.abort();
      },
      commitEveryRecords: 1000,
      signal: ac.signal,
    });
    expect(result.state).toBe('stopped');
    expect(registry.get('s').cursor).toBe(last!.next);
  });
});

describe('runConsumer commit cadence and handler calls', () => {
  it('commits a batch handler every commitEveryRecords records, not every multiple of the batch size', async () => {
    const journal = await journalWith(1000);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: false });
    registry.register('b');
    const commits: number[] = [];
    // count the runner's commits through the store: every commit writes the cursor file
    const write = registry.store.write.bind(registry.store);
    registry.store.write = (state) => {
      commits.push(state.cursor);
      write(state);
    };
    const writeAsync = registry.store.writeAsync.bind(registry.store);
    registry.store.writeAsync = (state) => {
      commits.push(state.cursor);
      return writeAsync(state);
    };
    await runConsumer(registry, 'b', { batchHandler: () => undefined, batchSize: 64, commitEveryRecords: 300, commitEveryMs: 60_000, stopAtHead: true });
    // 1000 records in batches of 64, a commit once 300 have been handled since the last one: 3 or 4, plus start and stop
    expect(commits.length).toBeGreaterThanOrEqual(4);
    expect(commits.length).toBeLessThanOrEqual(7);
  });

  it('calls a handler exactly once per record when it succeeds, sync or async, and retries a throwing one', async () => {
    const journal = await journalWith(20);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('s');
    registry.register('a');
    registry.register('r');
    const sync = new Map<number, number>();
    await runConsumer(registry, 's', { handler: (r) => void sync.set(r.offset, (sync.get(r.offset) ?? 0) + 1), stopAtHead: true });
    const asyncCalls = new Map<number, number>();
    await runConsumer(registry, 'a', {
      handler: async (r) => {
        asyncCalls.set(r.offset, (asyncCalls.get(r.offset) ?? 0) + 1);
        await new Promise((res) => setImmediate(res));
      },
      stopAtHead: true,
    });
    expect([...sync.values()].every((n) => n === 1) && sync.size === 20).toBe(true);
    expect([...asyncCalls.values()].every((n) => n === 1) && asyncCalls.size === 20).toBe(true);
    let calls = 0;
    const result = await runConsumer(registry, 'r', {
      handler: () => {
        if (++calls < 3) throw new Error('not yet');
      },
      retry: { maxAttempts: 5, initialDelayMs: 1 },
      stopAtHead: true,
    });
    expect(result.state).toBe('stopped');
    expect(calls).toBe(2 + 20);
  });

  it('keeps handling while a cursor commit syncs, with at most one commit in flight', async () => {
    const journal = await journalWith(600);
    // a slow disk: every async fsync takes 15 ms
    const slow = (p: Promise<void>): Promise<void> => p.then(() => new Promise((res) => setTimeout(res, 15)));
    const io: FileIO = { ...nodeFileIO, fsyncAsync: (fd) => slow(nodeFileIO.fsyncAsync(fd)) };
    const registry = ConsumerRegistry.forJournal(journal, { io, logger: quiet, autoCleanup: false });
    registry.register('p');
    let inFlight = 0;
    let maxInFlight = 0;
    let handledDuringCommits = 0;
    const writeAsync = registry.store.writeAsync.bind(registry.store);
    registry.store.writeAsync = async (state) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        await writeAsync(state);
      } finally {
        inFlight--;
      }
    };
    const result = await runConsumer(registry, 'p', {
      // async now and then, as a handler doing I/O would be: the loop must not wait for the commit meanwhile
      handler: (r) => {
        if (inFlight > 0) handledDuringCommits++;
        return r.offset % 5 === 0 ? new Promise((res) => setImmediate(res)) : undefined;
      },
      batchSize: 20,
      commitEveryRecords: 50,
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'stopped', handled: 600, cursor: journal.head });
    expect(registry.get('p')).toMatchObject({ cursor: journal.head, state: 'stopped' });
    expect(maxInFlight).toBe(1);
    expect(handledDuringCommits).toBeGreaterThan(100);
  });

  it('a handler that never returns a promise does not starve the event loop during a long catch-up', async () => {
    const journal = await journalWith(3000);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('busy');
    let handled = 0;
    let handledWhenTimerFired: number | undefined;
    setTimeout(() => (handledWhenTimerFired = handled), 1);
    const result = await runConsumer(registry, 'busy', {
      handler: () => {
        const until = performance.now() + 0.05; // 50 µs of CPU per record: 150 ms in all
        while (performance.now() < until);
        handled++;
      },
      commitEveryRecords: 1_000_000,
      stopAtHead: true,
    });
    expect(result.handled).toBe(3000);
    expect(handledWhenTimerFired, 'the timer fired only after the catch-up ended').toBeLessThan(3000);
  });
});
