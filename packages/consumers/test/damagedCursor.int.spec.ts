import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '@episteme/wal';
import { ConsumerErrorCodes, ConsumerRegistry, FileCursorStore, isConsumerError } from '../src/index.js';
import { SLOT_BYTES } from '../src/cursorFile.js';
import { journalWith, quiet, thrown } from './helpers.js';

const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A cursor file with no valid slot (bit rot in both, a hand edit) is never
 * read as a guessed position: reads, commits and cleanup refuse or hold back.
 * What gets a consumer going again is an administrator's reset (to a
 * position they choose) or delete, and those must work on the damaged file.
 */

function damage(registry: ConsumerRegistry, name: string): string {
  const path = join((registry.store as FileCursorStore).dir, `${name}.cursor`);
  const bytes = readFileSync(path);
  bytes[20]! ^= 1;
  bytes[SLOT_BYTES + 20]! ^= 1;
  writeFileSync(path, bytes);
  return path;
}

describe('a damaged cursor file', () => {
  it('is a typed error that says how to get out of it', async () => {
    const journal = await journalWith(20);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('c');
    registry.commit('c', journal.readMany(0, 5)[4]!.next);
    const path = damage(registry, 'c');
    const err = thrown(() => registry.get('c'));
    expect(isConsumerError(err, ConsumerErrorCodes.CorruptCursor)).toBe(true);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/reset the consumer to a position \(or delete it\)/);
    // cleanup holds back rather than guess
    expect(registry.cleanup()).toEqual([]);
  });

  it('holds back cleanup with one warning while it stays damaged, not one per commit; damage again after a reset is warned about again', async () => {
    const journal = await journalWith(200);
    const warnings: string[] = [];
    const registry = ConsumerRegistry.forJournal(journal, { logger: { warn: (m) => void warnings.push(m) } });
    registry.register('bad');
    registry.register('good');
    damage(registry, 'bad');
    const records = journal.readMany(0, 200);
    for (const r of records.slice(0, 100)) registry.commit('good', r.next);
    expect(warnings).toEqual([expect.stringMatching(/^cleanup skipped: cursor file .*bad\.cursor is damaged: /)]);
    expect(journal.earliest).toBe(0);
    registry.reset('bad', 'latest');
    for (const r of records.slice(100, 150)) registry.commit('good', r.next);
    expect(journal.earliest).toBeGreaterThan(0); // cleanup works again
    damage(registry, 'bad');
    for (const r of records.slice(150)) registry.commit('good', r.next);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/^cleanup skipped: cursor file .*bad\.cursor is damaged: /);
  });

  it('reset writes it anew at the position asked for; commits then go on', async () => {
    const journal = await journalWith(20);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('c');
    damage(registry, 'c');
    const third = journal.readMany(0, 3)[2]!.offset;
    expect(registry.reset('c', third)).toMatchObject({ name: 'c', cursor: third, state: 'stopped' });
    expect(registry.get('c').cursor).toBe(third);
    const next = journal.readMany(third, 1)[0]!.next;
    expect(registry.commit('c', next).cursor).toBe(next);
    expect(registry.list().find((i) => i.name === 'c')).toMatchObject({ cursor: next, state: 'stopped' });
  });

  it('delete removes it; deleting a consumer that does not exist is still an error', async () => {
    const journal = await journalWith(20);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('c');
    damage(registry, 'c');
    registry.delete('c');
    expect(registry.has('c')).toBe(false);
    expect(isConsumerError(thrown(() => registry.delete('c')), ConsumerErrorCodes.NotFound)).toBe(true);
  });
});

describe('a damaged cursor file found when the journal opens', () => {
  /** A reopened journal whose consumer "c" has a damaged cursor file (the registry is built by the test, in its own turn). */
  async function reopenedWithDamage(): Promise<{ journal: Journal; path: string }> {
    const journal = await journalWith(20);
    const first = ConsumerRegistry.forJournal(journal, { logger: quiet });
    first.register('c');
    const path = damage(first, 'c');
    await journal.close();
    return { journal: await journalWith(0, { dir: journal.dir }), path };
  }

  function collecting(journal: Journal): { registry: ConsumerRegistry; warnings: string[] } {
    const warnings: string[] = [];
    return { registry: ConsumerRegistry.forJournal(journal, { logger: { warn: (m) => void warnings.push(m) } }), warnings };
  }

  it('is warned about once, with how to get out of it, by the end of the turn the registry was built in', async () => {
    const { journal, path } = await reopenedWithDamage();
    const { registry, warnings } = collecting(journal);
    expect(warnings).toEqual([]); // held: a layer above may repair it in this turn
    await endOfTurn();
    expect(warnings).toEqual([`consumer "c": ${(thrown(() => registry.get('c')) as Error).message}`]);
    expect(warnings[0]).toContain(path);
    expect(warnings[0]).toMatch(/reset the consumer to a position \(or delete it\)/);
  });

  it('says which cursor it is about, for a logger that leaves out what the command at hand repairs', async () => {
    const { journal } = await reopenedWithDamage();
    const about: unknown[] = [];
    ConsumerRegistry.forJournal(journal, { logger: { warn: (_m, a) => void about.push(a) } });
    await endOfTurn();
    expect(about).toEqual([{ damagedCursor: 'c' }]);
  });

  it('is left to a layer that repairs it in that turn: takeDamageReport hands the report over, and the registry says nothing', async () => {
    const { journal, path } = await reopenedWithDamage();
    const { registry, warnings } = collecting(journal);
    registry.reset('c', 'earliest');
    expect(registry.takeDamageReport('c')).toMatchObject({ code: ConsumerErrorCodes.CorruptCursor, path });
    expect(registry.takeDamageReport('c')).toBeUndefined();
    await endOfTurn();
    expect(warnings).toEqual([]);
  });

  it('is warned about all the same when nobody takes it in that turn (a repair after an await comes too late)', async () => {
    const { journal } = await reopenedWithDamage();
    const { registry, warnings } = collecting(journal);
    await endOfTurn();
    expect(registry.takeDamageReport('c')).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});
