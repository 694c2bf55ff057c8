import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Journal, JournalRecord } from '@episteme/wal';
import { ConsumerRegistry, runConsumer } from '../src/index.js';
import { journalWith, quiet } from './helpers.js';

const nextMacrotask = (): Promise<void> => new Promise((res) => setImmediate(res));

/** A second run from the committed cursor: the offsets it is handed, to the head. */
async function resume(registry: ConsumerRegistry, name: string): Promise<number[]> {
  const seen: number[] = [];
  const result = await runConsumer(registry, name, { handler: (r) => void seen.push(r.offset), stopAtHead: true });
  expect(result.state).toBe('stopped');
  return seen;
}

// All records of each journal fit in one batch (default batchSize 256): before the
// fix, an abort was noticed only after the whole batch had been handled.
/** A journal of `count` records, a registry with consumer `name` registered, its records, and the controller that aborts. */
async function setup(count: number, name: string): Promise<{ journal: Journal; registry: ConsumerRegistry; records: JournalRecord[]; ac: AbortController }> {
  const journal = await journalWith(count);
  const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
  registry.register(name);
  return { journal, registry, records: journal.readMany(0, 1000), ac: new AbortController() };
}

describe('runConsumer stops promptly on abort', () => {
  it('an async record handler: the call in progress finishes, no other starts, the cursor is just after it, a restart resumes with the next record', async () => {
    const { journal, registry, records, ac } = await setup(40, 'slow');
    const seen: JournalRecord[] = [];
    const result = await runConsumer(registry, 'slow', {
      handler: async (r) => {
        seen.push(r);
        // the abort lands while the 5th call is still in progress (from another macrotask, as Ctrl-C would)
        if (seen.length === 5) setImmediate(() => ac.abort());
        await nextMacrotask();
        await nextMacrotask();
      },
      commitEveryRecords: 2, // a commit may be in flight when the abort comes
      signal: ac.signal,
    });
    expect(seen.map((r) => r.offset)).toEqual(records.slice(0, 5).map((r) => r.offset));
    expect(result).toMatchObject({ state: 'stopped', handled: 5, cursor: records[4]!.next });
    expect(registry.get('slow').cursor).toBe(records[4]!.next);
    expect(registry.list()[0]).toMatchObject({ state: 'stopped', cursor: records[4]!.next });
    // none skipped, none of the handled ones delivered again
    expect(await resume(registry, 'slow')).toEqual(records.slice(5).map((r) => r.offset));
  });

  it('a slow synchronous record handler: the abort is delivered within the batch, not after it', async () => {
    const { journal, registry, records, ac } = await setup(200, 'busy');
    let handled = 0;
    const result = await runConsumer(registry, 'busy', {
      handler: () => {
        // the abort can only run once the runner yields to the event loop
        if (handled === 0) setImmediate(() => ac.abort());
        const until = performance.now() + 1; // 1 ms of CPU per record: 200 ms for the batch
        while (performance.now() < until);
        handled++;
      },
      commitEveryRecords: 1_000_000,
      signal: ac.signal,
    });
    expect(handled).toBeLessThan(records.length);
    expect(result).toMatchObject({ state: 'stopped', handled, cursor: records[handled - 1]!.next });
    expect(registry.get('busy').cursor).toBe(records[handled - 1]!.next);
    expect(await resume(registry, 'busy')).toEqual(records.slice(handled).map((r) => r.offset));
  });

  // Before the fix: the clock was read every 64 records (and never after an async handler's
  // call), and a yield was one setImmediate, which from the poll phase does not reach the
  // timers: 64 to 128 records (a whole batch for an async one) after the abort was due.
  it.each([
    { kind: 'synchronous', costMs: 2, async: false },
    { kind: 'async (no I/O)', costMs: 2, async: true },
    { kind: 'synchronous', costMs: 10, async: false },
  ])('a busy $kind record handler of $costMs ms and an abort on a timer: delivered at the first yield, within 10 ms of handler time', async ({ costMs, async }) => {
    const { journal, registry, records, ac } = await setup(200, 'busy');
    let handled = 0;
    const busy = (): void => {
      if (handled === 0) setTimeout(() => ac.abort(), 1); // due long before the runner's first yield
      const until = performance.now() + costMs; // CPU time: the clock the runner reads moves at least this much
      while (performance.now() < until);
      handled++;
    };
    // the run starts in the poll phase (an fs callback), where one setImmediate runs before the timers do
    await stat(journal.dir);
    const result = await runConsumer(registry, 'busy', {
      handler: async ? async () => busy() : busy,
      commitEveryRecords: 1_000_000,
      signal: ac.signal,
    });
    // the runner yields once 10 ms have passed since it started: after at most this many records
    const firstYieldBy = Math.ceil(10 / costMs);
    expect(handled).toBeGreaterThan(0);
    expect(handled).toBeLessThanOrEqual(firstYieldBy);
    expect(result).toMatchObject({ state: 'stopped', handled, cursor: records[handled - 1]!.next });
    expect(await resume(registry, 'busy')).toEqual(records.slice(handled).map((r) => r.offset));
  });

  it('a batch handler: the batch in progress is handled and committed, no other batch starts', async () => {
    const { journal, registry, records, ac } = await setup(20, 'b');
    const batches: number[][] = [];
    const result = await runConsumer(registry, 'b', {
      batchHandler: async (rs) => {
        batches.push(rs.map((r) => r.offset));
        if (batches.length === 2) ac.abort();
        await nextMacrotask();
      },
      batchSize: 4,
      signal: ac.signal,
    });
    expect(batches).toEqual([records.slice(0, 4).map((r) => r.offset), records.slice(4, 8).map((r) => r.offset)]);
    expect(result).toMatchObject({ state: 'stopped', handled: 8, cursor: records[7]!.next });
    expect(await resume(registry, 'b')).toEqual(records.slice(8).map((r) => r.offset));
  });

  it('during a retry backoff: ends without waiting it out, the failing record not committed', async () => {
    const { journal, registry, records, ac } = await setup(10, 'r');
    let attempts = 0;
    const result = await runConsumer(registry, 'r', {
      handler: (r) => {
        if (r.offset !== records[3]!.offset) return;
        attempts++;
        // the abort comes while the runner sleeps before the 2nd attempt; a backoff
        // waited out would outlast the test's timeout by far
        setImmediate(() => ac.abort());
        throw new Error('downstream unavailable');
      },
      retry: { maxAttempts: 5, initialDelayMs: 10 * 60_000, maxDelayMs: 10 * 60_000 },
      signal: ac.signal,
    });
    expect(attempts).toBe(1);
    expect(result).toMatchObject({ state: 'stopped', handled: 3, cursor: records[3]!.offset });
    expect(registry.list()[0]).toMatchObject({ state: 'stopped', cursor: records[3]!.offset });
    expect(await resume(registry, 'r')).toEqual(records.slice(3).map((r) => r.offset));
  });
});
