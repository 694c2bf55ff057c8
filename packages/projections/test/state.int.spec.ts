import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Journal } from '@episteme/wal';
import { ConsumerRegistry } from '@episteme/consumers';
import { MAX_PROJECTION_NAME_LENGTH, ProjectionEngine, ProjectionErrorCodes, type Projection } from '../src/index.js';
import { diskImage, later, quiet, tempDir } from './helpers.js';

/* What a projection may be: a name whose consumer name fits, and a state a snapshot keeps. */

const ev = (type: string): Uint8Array => Buffer.from(JSON.stringify({ type }));

async function openApp(records = 3) {
  const dir = tempDir();
  const journal = await Journal.open({ dir, durability: 'none' });
  const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: false });
  for (let k = 0; k < records; k++) await journal.append(ev('a'));
  later(() => journal.close());
  const log = { warn: vi.fn<(m: string) => void>(), info: vi.fn<(m: string) => void>() };
  const engine = ProjectionEngine.forJournal(journal, { registry, logger: log });
  later(() => engine.stop());
  return { dir, journal, registry, engine, log };
}

const counter = (name: string): Projection<{ n: number }, unknown> => ({ name, version: 1, initialState: () => ({ n: 0 }), apply: (s) => ({ n: s.n + 1 }) });

describe('projection names', () => {
  it(`accept ${MAX_PROJECTION_NAME_LENGTH} characters, so that projection.<name> is a valid consumer name`, async () => {
    expect(MAX_PROJECTION_NAME_LENGTH).toBe(53);
    const { engine, registry } = await openApp();
    const name = 'p'.repeat(MAX_PROJECTION_NAME_LENGTH);
    engine.register(counter(name));
    expect(registry.get(`projection.${name}`)).toBeDefined();
    await expect(engine.start({ follow: false })).resolves.toMatchObject([{ name, mode: 'rebuilt' }]);
  });

  it.each([54, 64])('refuse %i characters with a typed projection error naming the limit, and change nothing', async (length) => {
    const { dir, engine } = await openApp();
    const before = diskImage(dir);
    expect(() => engine.register(counter('p'.repeat(length)))).toThrow(
      expect.objectContaining({ code: ProjectionErrorCodes.InvalidArgument, message: expect.stringContaining(`longer than ${MAX_PROJECTION_NAME_LENGTH} characters`) }),
    );
    expect(engine.names).toEqual([]);
    expect(diskImage(dir)).toEqual(before);
  });
});

describe('a state a JSON snapshot would not keep', () => {
  it.each([
    ['a Map', () => new Map<string, number>(), 'a Map'],
    ['a Set', () => new Set<string>(), 'a Set'],
    ['a BigInt', () => 0n, 'a bigint'],
  ])('(%s) is refused at register when there is no serialize, and nothing changes', async (_, initialState, what) => {
    const { dir, engine } = await openApp();
    const before = diskImage(dir);
    const p = { name: 'odd', version: 1, initialState, apply: (s: unknown) => s };
    expect(() => engine.register(p)).toThrow(expect.objectContaining({ code: ProjectionErrorCodes.InvalidArgument, message: expect.stringContaining(`is ${what}`) }));
    expect(engine.names).toEqual([]);
    expect(diskImage(dir)).toEqual(before);
  });

  it('is kept across a restart when serialize and deserialize are given', async () => {
    const dir = tempDir();
    const map: Projection<Map<string, number>, { type: string }> = {
      name: 'map',
      version: 1,
      initialState: () => new Map(),
      apply: (s, e) => s.set(e.type, (s.get(e.type) ?? 0) + 1),
      serialize: (s) => [...s],
      deserialize: (d) => new Map(d as Array<[string, number]>),
    };
    for (const expected of ['rebuilt', 'resumed']) {
      const journal = await Journal.open({ dir, durability: 'none' });
      if (expected === 'rebuilt') await journal.append(ev('a'));
      const engine = ProjectionEngine.forJournal(journal, { logger: quiet });
      engine.register(map);
      expect(await engine.start({ follow: false })).toMatchObject([{ mode: expected }]);
      expect(engine.query<Map<string, number>>('map').state).toEqual(new Map([['a', 1]]));
      await engine.stop();
      await journal.close();
    }
  });

  it('that apply produces fails that projection with PROJECTION_STATE_NOT_SERIALIZABLE; the others start, and no snapshot is written', async () => {
    const { dir, engine } = await openApp();
    engine.register({ name: 'big', version: 1, initialState: () => ({ n: 0 }), apply: (s: { n: unknown }) => ({ n: BigInt(1) }) });
    engine.register(counter('after'));
    const reports = await engine.start();
    expect(reports).toMatchObject([
      { name: 'big', mode: 'failed', error: { code: ProjectionErrorCodes.StateNotSerializable, message: expect.stringContaining('projection "big"') } },
      { name: 'after', mode: 'rebuilt' },
    ]);
    expect(engine.list()).toMatchObject([{ name: 'big', status: 'failed' }, { name: 'after', status: 'running' }]);
    expect(existsSync(join(dir, 'projections', 'big.snapshot'))).toBe(false);
    expect(existsSync(join(dir, 'projections', 'after.snapshot'))).toBe(true);
  });

  it('from a serialize that throws is the same typed error', async () => {
    const { engine } = await openApp();
    engine.register({ ...counter('ser'), serialize: () => { throw new Error('no'); } });
    expect(await engine.start({ follow: false })).toMatchObject([{ mode: 'failed', error: { code: ProjectionErrorCodes.StateNotSerializable } }]);
  });

  it('on stop(): the others are still saved, that projection is marked failed, and stop() throws the typed error', async () => {
    const { dir, journal, engine } = await openApp();
    let poison = false;
    engine.register({ name: 'big', version: 1, initialState: () => ({ n: 0 as unknown }), apply: (s: { n: unknown }) => ({ n: poison ? BigInt(1) : 1 }) });
    engine.register(counter('other'));
    await engine.start();
    const saved = diskImage(dir)[join(dir, 'projections', 'big.snapshot')];
    poison = true;
    await journal.append(ev('b'));
    await engine.waitFor();
    await expect(engine.stop()).rejects.toMatchObject({ code: ProjectionErrorCodes.StateNotSerializable });
    expect(engine.list()).toMatchObject([{ name: 'big', status: 'failed' }, { name: 'other', status: 'stopped', checkpoint: journal.head }]);
    expect(diskImage(dir)[join(dir, 'projections', 'big.snapshot')]).toBe(saved);
    const again = ProjectionEngine.forJournal(journal, { logger: quiet });
    again.register(counter('other'));
    expect(await again.start({ follow: false })).toMatchObject([{ name: 'other', mode: 'resumed', events: 0 }]);
  });
});
