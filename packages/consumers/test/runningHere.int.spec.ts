import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { ConsumerErrorCodes, ConsumerRegistry, isConsumerError, runConsumer } from '../src/index.js';
import { journalWith, quiet, thrown, track } from './helpers.js';

/** Resolves once `check` holds, looking after each macrotask (no clock involved). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((res) => setImmediate(res));
}

// Before the fix, reset was accepted (and then undone by the runner's next
// commit, nothing re-delivered) and delete failed the run with CONSUMER_NOT_FOUND.
describe('a consumer running in this process', () => {
  it('cannot be reset or deleted, through any registry of its journal; nothing changes and the run goes on', async () => {
    const journal = await journalWith(20);
    const registry = new ConsumerRegistry(journal, { logger: quiet, autoCleanup: false });
    registry.register('c');
    const seen: number[] = [];
    const ac = new AbortController();
    const run = runConsumer(registry, 'c', { handler: (r) => void seen.push(r.offset), commitEveryRecords: 1, commitEveryMs: 10, signal: ac.signal });
    await until(() => registry.get('c').cursor === journal.head);
    const before = registry.get('c');
    expect(before.state).toBe('running');

    // the same registry, another one on the same journal, and a read-only one on its directory (the CLI's way, in-process)
    const reader = track(await Journal.openForRead({ dir: journal.dir }));
    const registries = [registry, new ConsumerRegistry(journal, { logger: quiet }), new ConsumerRegistry(reader, { logger: quiet })];
    for (const r of registries) {
      for (const change of [() => r.reset('c', 'earliest'), () => r.reset('c', 0), () => r.reset('c', 'latest'), () => r.delete('c')]) {
        const err = thrown(change);
        expect(isConsumerError(err, ConsumerErrorCodes.Running), String(err)).toBe(true);
        expect((err as Error).message).toContain(`process ${process.pid}`);
      }
    }
    expect(registry.get('c')).toEqual(before);

    // the run was not disturbed: it goes on with the next records, none delivered twice
    const more = (await journal.appendBatch([Buffer.from('x'), Buffer.from('y')])).map((a) => a.offset);
    await until(() => seen.length === 22);
    ac.abort();
    expect(await run).toMatchObject({ state: 'stopped', cursor: journal.head, handled: 22 });
    expect(new Set(seen).size).toBe(22);
    expect(seen.slice(20)).toEqual(more);

    // once it stopped, both are allowed again
    expect(registry.reset('c', 'earliest').cursor).toBe(journal.earliest);
    registry.delete('c');
    expect(registry.has('c')).toBe(false);
  });
});
