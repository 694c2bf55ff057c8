import { describe, expect, it } from 'vitest';
import { ConsumerErrorCodes, isConsumerError, runConsumer } from '../../src/index.js';
import { quiet, thrown } from '../helpers.js';
import { LOGS, type Subject } from './subjects.js';

/** Resolves once `check` holds, looking after each macrotask (no clock involved). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((res) => setImmediate(res));
}

describe.each(LOGS)('cleanup driven by cursors, over $kind', (logs) => {
  it('deletes nothing without consumers, only units below the lowest cursor with two, and releases them when the slow one is deleted', async () => {
    const h = await logs.create({ count: 200, perUnit: 8 });
    const { log } = h;
    const all = h.units();
    expect(all.length).toBeGreaterThan(10);
    const registry = h.registry({ logger: quiet });
    expect(registry.cleanup()).toEqual([]);
    expect(h.units()).toEqual(all);

    const records = log.readMany(0, 1000);
    registry.register('slow');
    registry.register('fast');
    registry.commit('slow', records[40]!.offset);
    registry.commit('fast', records[150]!.offset);
    const slowCursor = records[40]!.offset;
    // only whole units below the slow cursor are gone
    const left = h.units();
    expect(log.earliest).toBeLessThanOrEqual(slowCursor);
    for (const name of all.filter((n) => !left.includes(n))) {
      const next = all[all.indexOf(name) + 1]!;
      expect(h.baseOf(next)).toBeLessThanOrEqual(slowCursor);
    }
    expect(log.read(slowCursor)).toBeDefined();

    registry.delete('slow');
    expect(log.earliest).toBeGreaterThan(slowCursor);
    expect(log.earliest).toBeLessThanOrEqual(records[150]!.offset);

    // the unit being written is never deleted, even when every consumer is at the head
    registry.commit('fast', log.head);
    expect(h.units()).toEqual([all[all.length - 1]]);
    const head = log.head;
    const at = await h.append(Buffer.from('still writable'));
    expect(at).toBe(head);
    expect(log.head).toBeGreaterThan(at);
  });

  it('a failed consumer holds the log', async () => {
    const h = await logs.create({ count: 100, perUnit: 8 });
    const registry = h.registry({ logger: quiet });
    registry.register('stuck');
    registry.register('ok', { startFrom: 'latest' });
    registry.commit('stuck', 0, { state: 'failed', error: 'boom' });
    registry.cleanup();
    expect(h.log.earliest).toBe(0);
  });

  it('a registry without a Retention (a reader\'s) deletes nothing, and a commit past every unit frees nothing through it', async () => {
    const h = await logs.create({ count: 100, perUnit: 8 });
    const reader = await h.readerRegistry({ logger: quiet });
    reader.register('c');
    reader.commit('c', reader.log.head); // what the reader sees (a journal's reader may lag appends not yet synced)
    expect(reader.cleanup()).toEqual([]);
    expect(h.log.earliest).toBe(0);
    // the writer's registry frees them
    expect(h.registry({ logger: quiet }).cleanup().length).toBeGreaterThan(0);
    expect(h.log.earliest).toBeGreaterThan(0);
  });
});

/** The consumer as a registry over the reopened log lists it (after an ordinary shutdown and restart). */
async function afterRestart(h: Subject, name: string): Promise<unknown> {
  const again = await h.reopen();
  const info = again.registry({ logger: quiet }).list().find((c) => c.name === name);
  await again.close();
  return info;
}

// Before the fix, both runs ended as failed with "WAL_CLOSED the journal is closed",
// and that state was persisted: list() after the restart showed a failed consumer.
describe.each(LOGS)('closing the log under a running consumer (an ordinary shutdown), over $kind', (logs) => {
  it('ends a run that waits at the head as stopped, its cursor committed, not failed', async () => {
    const h = await logs.create({ count: 30, perUnit: 4 });
    const registry = h.registry({ logger: quiet });
    registry.register('f');
    let handled = 0;
    const run = runConsumer(registry, 'f', { handler: () => void handled++, commitEveryRecords: 1_000_000, commitEveryMs: 60_000 });
    await until(() => handled === 30);
    const head = h.log.head;
    await h.close();
    const result = await run;
    expect(result).toMatchObject({ state: 'stopped', handled: 30, cursor: head });
    expect(result.error).toBeUndefined();
    const info = await afterRestart(h, 'f');
    expect(info).toMatchObject({ state: 'stopped', cursor: head, lagRecords: 0 });
    expect(info).not.toHaveProperty('error');
  });

  it('ends a run whose handler was busy when the log closed as stopped, just past the last record handled', async () => {
    const h = await logs.create({ count: 30, perUnit: 4 });
    const registry = h.registry({ logger: quiet });
    registry.register('f');
    const records = h.log.readMany(0, 1000);
    let handled = 0;
    const result = await runConsumer(registry, 'f', {
      handler: async () => {
        // the app shuts down while the 10th record is being handled
        if (++handled === 10) await h.close();
      },
      batchSize: 4,
      commitEveryRecords: 3, // commits in flight while the log closes
    });
    expect(result.state).toBe('stopped');
    expect(result.error).toBeUndefined();
    // the rest of the batch in hand was handled; nothing after it was read
    expect(result.handled).toBe(12);
    expect(result.cursor).toBe(records[11]!.next);
    expect(await afterRestart(h, 'f')).toMatchObject({ state: 'stopped', cursor: records[11]!.next });
  });
});

/** Ten records, consumer "c" committed at the head, then a crash that tore the last record: the log reopened. */
async function cursorAtHeadThenTornTail(create: () => Promise<Subject>): Promise<{ h: Subject; cursor: number; lastRecord: number }> {
  const first = await create();
  const offsets = await first.appendBatch(Array.from({ length: 10 }, (_, i) => Buffer.from(`record-${i}`)));
  const registry = first.registry({ logger: quiet });
  registry.register('c');
  registry.commit('c', first.log.head);
  const cursor = first.log.head;
  return { h: await first.reopen({ cutLastRecord: true }), cursor, lastRecord: offsets[9]! };
}

describe.each(LOGS)('cursor recovery after the log was cut, over $kind', (logs) => {
  it('clamps a cursor beyond the recovered head to the new head and reports it (returned and logged)', async () => {
    const { h, cursor, lastRecord } = await cursorAtHeadThenTornTail(() => logs.create());
    expect(h.log.truncatedAt).toBe(lastRecord);
    expect(h.log.head).toBe(lastRecord);
    const warnings: string[] = [];
    const registry = h.registry({ logger: { warn: (m) => warnings.push(m) } });
    expect(registry.clamped).toEqual([
      expect.objectContaining({ name: 'c', storedCursor: cursor, clampedTo: lastRecord, reason: 'cut-by-recovery' }),
    ]);
    expect(warnings.join('\n')).toContain(`stored cursor ${cursor}`);
    expect(registry.get('c').cursor).toBe(lastRecord);
  });

  it('clamps to the cut even when new records were appended before the registry opened', async () => {
    const { h, lastRecord } = await cursorAtHeadThenTornTail(() => logs.create());
    await h.appendBatch(Array.from({ length: 5 }, (_, i) => Buffer.from(`new-${i}-longer-payload`)));
    const registry = h.registry({ logger: quiet });
    expect(registry.clamped[0]).toMatchObject({ reason: 'cut-by-recovery', clampedTo: lastRecord });
    expect(h.log.read(registry.get('c').cursor)).toBeDefined();
  });
});

// Before the fix, reset was accepted (and then undone by the runner's next
// commit, nothing re-delivered) and delete failed the run with CONSUMER_NOT_FOUND.
describe.each(LOGS)('a consumer running in this process, over $kind', (logs) => {
  it('cannot be reset or deleted, through any registry of its log; nothing changes and the run goes on', async () => {
    const h = await logs.create({ count: 20 });
    const registry = h.registry({ logger: quiet, autoCleanup: false });
    registry.register('c');
    const seen: number[] = [];
    const ac = new AbortController();
    const run = runConsumer(registry, 'c', { handler: (r) => void seen.push(r.offset), commitEveryRecords: 1, commitEveryMs: 10, signal: ac.signal });
    await until(() => registry.get('c').cursor === h.log.head);
    const before = registry.get('c');
    expect(before.state).toBe('running');

    // the same registry, another one on the same log, and a reader's (the CLI's way, in-process)
    const registries = [registry, h.registry({ logger: quiet }), await h.readerRegistry({ logger: quiet })];
    for (const r of registries) {
      for (const change of [() => r.reset('c', 'earliest'), () => r.reset('c', 0), () => r.reset('c', 'latest'), () => r.delete('c')]) {
        const err = thrown(change);
        expect(isConsumerError(err, ConsumerErrorCodes.Running), String(err)).toBe(true);
        expect((err as Error).message).toContain(`process ${process.pid}`);
      }
    }
    expect(registry.get('c')).toEqual(before);

    // the run was not disturbed: it goes on with the next records, none delivered twice
    const more = await h.appendBatch([Buffer.from('x'), Buffer.from('y')]);
    await until(() => seen.length === 22);
    ac.abort();
    expect(await run).toMatchObject({ state: 'stopped', cursor: h.log.head, handled: 22 });
    expect(new Set(seen).size).toBe(22);
    expect(seen.slice(20)).toEqual(more);

    // once it stopped, both are allowed again
    expect(registry.reset('c', 'earliest').cursor).toBe(h.log.earliest);
    registry.delete('c');
    expect(registry.has('c')).toBe(false);
  });
});
