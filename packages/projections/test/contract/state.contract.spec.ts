import { describe, expect, it, vi } from 'vitest';
import { MAX_PROJECTION_NAME_LENGTH, ProjectionErrorCodes, type Projection } from '../../src/index.js';
import { later, quiet } from '../helpers.js';
import { engineOver, hasSnapshot, imageOf, LOGS, snapshotImage, type LogKind, type Subject } from './engines.js';

/* What a projection may be: a name whose consumer name fits, and a state a snapshot keeps. */

const ev = (type: string): Uint8Array => Buffer.from(JSON.stringify({ type }));

async function openApp(logs: LogKind, records = 3) {
  const h = await logs.create();
  const registry = h.registry({ logger: quiet, autoCleanup: false });
  for (let k = 0; k < records; k++) await h.append(ev('a'));
  const log = { warn: vi.fn<(m: string) => void>(), info: vi.fn<(m: string) => void>() };
  const engine = engineOver(h, { registry, logger: log });
  later(() => engine.stop());
  return { h, journal: h.log, registry, engine, log };
}

const counter = (name: string): Projection<{ n: number }, unknown> => ({ name, version: 1, initialState: () => ({ n: 0 }), apply: (s) => ({ n: s.n + 1 }) });

describe.each(LOGS)('projection names, over $kind', (logs) => {
  it(`accept ${MAX_PROJECTION_NAME_LENGTH} characters, so that projection.<name> is a valid consumer name`, async () => {
    expect(MAX_PROJECTION_NAME_LENGTH).toBe(53);
    const { engine, registry } = await openApp(logs);
    const name = 'p'.repeat(MAX_PROJECTION_NAME_LENGTH);
    engine.register(counter(name));
    expect(registry.get(`projection.${name}`)).toBeDefined();
    await expect(engine.start({ follow: false })).resolves.toMatchObject([{ name, mode: 'rebuilt' }]);
  });

  it.each([54, 64])('refuse %i characters with a typed projection error naming the limit, and change nothing', async (length) => {
    const { h, engine } = await openApp(logs);
    const before = imageOf(h);
    expect(() => engine.register(counter('p'.repeat(length)))).toThrow(
      expect.objectContaining({ code: ProjectionErrorCodes.InvalidArgument, message: expect.stringContaining(`longer than ${MAX_PROJECTION_NAME_LENGTH} characters`) }),
    );
    expect(engine.names).toEqual([]);
    expect(imageOf(h)).toEqual(before);
  });
});

describe.each(LOGS)('a state a JSON snapshot would not keep, over $kind', (logs) => {
  it.each([
    ['a Map', () => new Map<string, number>(), 'a Map'],
    ['a Set', () => new Set<string>(), 'a Set'],
    ['a BigInt', () => 0n, 'a bigint'],
  ])('(%s) is refused at register when there is no serialize, and nothing changes', async (_, initialState, what) => {
    const { h, engine } = await openApp(logs);
    const before = imageOf(h);
    const p = { name: 'odd', version: 1, initialState, apply: (s: unknown) => s };
    expect(() => engine.register(p)).toThrow(expect.objectContaining({ code: ProjectionErrorCodes.InvalidArgument, message: expect.stringContaining(`is ${what}`) }));
    expect(engine.names).toEqual([]);
    expect(imageOf(h)).toEqual(before);
  });

  it('is kept across a restart when serialize and deserialize are given', async () => {
    let h: Subject = await logs.create();
    const map: Projection<Map<string, number>, { type: string }> = {
      name: 'map',
      version: 1,
      initialState: () => new Map(),
      apply: (s, e) => s.set(e.type, (s.get(e.type) ?? 0) + 1),
      serialize: (s) => [...s],
      deserialize: (d) => new Map(d as Array<[string, number]>),
    };
    for (const expected of ['rebuilt', 'resumed']) {
      if (expected === 'rebuilt') await h.append(ev('a'));
      const engine = engineOver(h, { logger: quiet });
      engine.register(map);
      expect(await engine.start({ follow: false })).toMatchObject([{ mode: expected }]);
      expect(engine.query<Map<string, number>>('map').state).toEqual(new Map([['a', 1]]));
      await engine.stop();
      h = await h.reopen();
    }
  });

  it('that apply produces fails that projection with PROJECTION_STATE_NOT_SERIALIZABLE; the others start, and no snapshot is written', async () => {
    const { h, engine } = await openApp(logs);
    engine.register({ name: 'big', version: 1, initialState: () => ({ n: 0 }), apply: (s: { n: unknown }) => ({ n: BigInt(1) }) });
    engine.register(counter('after'));
    const reports = await engine.start();
    expect(reports).toMatchObject([
      { name: 'big', mode: 'failed', error: { code: ProjectionErrorCodes.StateNotSerializable, message: expect.stringContaining('projection "big"') } },
      { name: 'after', mode: 'rebuilt' },
    ]);
    expect(engine.list()).toMatchObject([{ name: 'big', status: 'failed' }, { name: 'after', status: 'running' }]);
    expect(hasSnapshot(h, 'big')).toBe(false);
    expect(hasSnapshot(h, 'after')).toBe(true);
  });

  it('from a serialize that throws is the same typed error', async () => {
    const { engine } = await openApp(logs);
    engine.register({ ...counter('ser'), serialize: () => { throw new Error('no'); } });
    expect(await engine.start({ follow: false })).toMatchObject([{ mode: 'failed', error: { code: ProjectionErrorCodes.StateNotSerializable } }]);
  });

  it('on stop(): the others are still saved, that projection is marked failed, and stop() throws the typed error', async () => {
    const { h, journal, engine } = await openApp(logs);
    let poison = false;
    engine.register({ name: 'big', version: 1, initialState: () => ({ n: 0 as unknown }), apply: (s: { n: unknown }) => ({ n: poison ? BigInt(1) : 1 }) });
    engine.register(counter('other'));
    await engine.start();
    const saved = snapshotImage(h, 'big');
    poison = true;
    await h.append(ev('b'));
    await engine.waitFor();
    await expect(engine.stop()).rejects.toMatchObject({ code: ProjectionErrorCodes.StateNotSerializable });
    expect(engine.list()).toMatchObject([{ name: 'big', status: 'failed' }, { name: 'other', status: 'stopped', checkpoint: journal.head }]);
    expect(snapshotImage(h, 'big')).toEqual(saved);
    const again = engineOver(h, { logger: quiet });
    again.register(counter('other'));
    expect(await again.start({ follow: false })).toMatchObject([{ name: 'other', mode: 'resumed', events: 0 }]);
  });
});
