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
  const registry = new ConsumerRegistry(journal, { logger: quiet });
  registry.register('c');
  registry.commit('c', journal.head);
  const cursor = journal.head;
  await journal.close();
  // the last record was torn by a crash (say its sync never completed)
  const seg = join(dir, '0000000000000000.wal');
  truncateSync(seg, statSync(seg).size - 5);
  return { dir, cursor, lastRecord: offsets[9]! };
}

describe('cursor recovery after the journal cut its tail', () => {
  it('clamps a cursor beyond the recovered head to the new head and reports it (returned and logged)', async () => {
    const { dir, cursor, lastRecord } = await cursorAtHeadThenTornTail();
    const journal = track(await Journal.open({ dir }));
    expect(journal.recovery!.cuts).toHaveLength(1);
    expect(journal.head).toBe(lastRecord);
    const warnings: string[] = [];
    const registry = new ConsumerRegistry(journal, { logger: { warn: (m) => warnings.push(m) } });
    expect(registry.clamped).toEqual([
      expect.objectContaining({ name: 'c', storedCursor: cursor, clampedTo: lastRecord, reason: 'cut-by-recovery' }),
    ]);
    expect(warnings.join('\n')).toContain(`stored cursor ${cursor}`);
    expect(registry.get('c').cursor).toBe(lastRecord);
  });

  it('clamps to the cut even when new records were appended before the registry opened', async () => {
    const { dir, lastRecord } = await cursorAtHeadThenTornTail();
    const journal = track(await Journal.open({ dir }));
    await journal.appendBatch(Array.from({ length: 5 }, (_, i) => Buffer.from(`new-${i}-longer-payload`)));
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    expect(registry.clamped[0]).toMatchObject({ reason: 'cut-by-recovery', clampedTo: lastRecord });
    expect(journal.read(registry.get('c').cursor)).toBeDefined();
  });

  it('finds the boundary at or before a stale cursor when the cut happened in an earlier session', async () => {
    const { dir, cursor } = await cursorAtHeadThenTornTail();
    const first = await Journal.open({ dir });
    await first.appendBatch(Array.from({ length: 5 }, (_, i) => Buffer.from(`rewritten-${i}-with-other-sizes`)));
    await first.close();
    const journal = track(await Journal.open({ dir }));
    expect(journal.recovery!.cuts).toEqual([]);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    const clamp = registry.clamped[0]!;
    expect(clamp.reason).toBe('not-a-boundary');
    expect(clamp.clampedTo).toBeLessThanOrEqual(cursor);
    expect(journal.read(clamp.clampedTo)).toBeDefined();
  });

  it('reports but does not rewrite cursors when the journal is read-only', async () => {
    const { dir, cursor } = await cursorAtHeadThenTornTail();
    const journal = track(await Journal.openForRead({ dir }));
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    expect(registry.clamped[0]!.reason).toBe('beyond-head');
    expect(registry.get('c').cursor).toBe(cursor);
  });
});
