import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { ConsumerRegistry } from '../src/index.js';
import { quiet, tempDir, track } from './helpers.js';

async function cursorAtHeadThenTornTail(): Promise<{ dir: string; cursor: number; lastRecord: number }> {
  const dir = tempDir();
  const journal = await Journal.open({ dir, preallocateBytes: 0 });
  const offsets = (await journal.appendBatch(Array.from({ length: 10 }, (_, i) => Buffer.from(`record-${i}`)))).map((a) => a.offset);
  const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
  registry.register('c');
  registry.commit('c', journal.head);
  const cursor = journal.head;
  await journal.close();
  // the last record was torn by a crash (say its sync never completed)
  const seg = join(dir, '0000000000000000.wal');
  truncateSync(seg, statSync(seg).size - 5);
  return { dir, cursor, lastRecord: offsets[9]! };
}

/* The clamps any log gets (cut by recovery) are in contract/cleanup.contract.spec.ts; here, what takes a journal's bytes. */
describe('cursor recovery after the journal cut its tail', () => {
  it('finds the boundary at or before a stale cursor when the cut happened in an earlier session', async () => {
    const { dir, cursor } = await cursorAtHeadThenTornTail();
    const first = await Journal.open({ dir });
    await first.appendBatch(Array.from({ length: 5 }, (_, i) => Buffer.from(`rewritten-${i}-with-other-sizes`)));
    await first.close();
    const journal = track(await Journal.open({ dir }));
    expect(journal.recovery!.cuts).toEqual([]);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    const clamp = registry.clamped[0]!;
    expect(clamp.reason).toBe('not-a-boundary');
    expect(clamp.clampedTo).toBeLessThanOrEqual(cursor);
    expect(journal.read(clamp.clampedTo)).toBeDefined();
  });

  it('reports but does not rewrite cursors over a reader', async () => {
    const { dir, cursor } = await cursorAtHeadThenTornTail();
    const journal = track(await Journal.openForRead({ dir }));
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    expect(registry.clamped[0]!.reason).toBe('beyond-head');
    expect(registry.get('c').cursor).toBe(cursor);
  });
});
