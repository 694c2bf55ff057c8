import { describe, expect, it, vi } from 'vitest';
import { ProjectionErrorCodes, type Projection } from '../../src/index.js';
import { later } from '../helpers.js';
import { engineOver, hasSnapshot, imageOf, LOGS, snapshotImage, type LogKind } from './engines.js';

/* start/stop/abort/rebuild: one follow loop per projection, and a status that tells the truth. */

type Counts = Record<string, number>;

function counts(opts: { throwOn?: () => string | undefined } = {}): Projection<Counts, { type: string }> {
  return {
    name: 'counts',
    version: 1,
    initialState: () => ({}),
    apply: (s, e) => {
      if (opts.throwOn?.() === e.type) throw new Error(`cannot count ${e.type}`);
      s[e.type] = (s[e.type] ?? 0) + 1;
      return s;
    },
  };
}

const ev = (type: string): Uint8Array => Buffer.from(JSON.stringify({ type }));

function logger() {
  return { warn: vi.fn<(m: string) => void>(), info: vi.fn<(m: string) => void>() };
}

async function openApp(logs: LogKind, opts: { records?: number; batchSize?: number; projection?: Projection<Counts, { type: string }> } = {}) {
  const h = await logs.create();
  const log = logger();
  const registry = h.registry({ logger: log, autoCleanup: false });
  for (let k = 0; k < (opts.records ?? 3); k++) await h.append(ev('a'));
  const engine = engineOver(h, { registry, logger: log, ...(opts.batchSize ? { batchSize: opts.batchSize } : {}) });
  engine.register(opts.projection ?? counts());
  later(async () => {
    await engine.stop().catch(() => undefined);
    await h.close(); // a second close is a no-op
  });
  return { h, registry, engine, log };
}

/** Lets a loop that is (wrongly) still running wake up on an append and apply it. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

describe.each(LOGS)('a second start() while the projections follow, over $kind', (logs) => {
  it('is refused with PROJECTION_BUSY and changes nothing; after stop() no loop applies records', async () => {
    const { h, engine, registry } = await openApp(logs);
    await engine.start();
    const before = { disk: imageOf(h, ['counts']), list: engine.list(), query: engine.query('counts') };
    await expect(engine.start()).rejects.toMatchObject({ code: ProjectionErrorCodes.Busy, message: expect.stringContaining('already started; stop() first') });
    await expect(engine.start({ follow: false })).rejects.toMatchObject({ code: ProjectionErrorCodes.Busy });
    expect(imageOf(h, ['counts'])).toEqual(before.disk);
    expect(engine.list()).toEqual(before.list);
    expect(engine.query('counts')).toEqual(before.query);

    await engine.stop();
    const stopped = { snapshot: snapshotImage(h, 'counts'), cursor: registry.get('projection.counts')!.cursor };
    await h.append(ev('late'));
    await settle();
    expect(engine.query('counts')).toMatchObject({ state: { a: 3 }, status: 'stopped' });
    expect(snapshotImage(h, 'counts')).toEqual(stopped.snapshot);
    expect(registry.get('projection.counts')!.cursor).toBe(stopped.cursor);
  });
});

describe.each(LOGS)('start() after a projection failed while following, over $kind', (logs) => {
  it('opens it anew from its snapshot: running, the error cleared, and it follows', async () => {
    let broken = true;
    const { h, engine } = await openApp(logs, { projection: counts({ throwOn: () => (broken ? 'b' : undefined) }) });
    await engine.start();
    await h.append(ev('b'));
    await vi.waitFor(() => expect(engine.query('counts').status).toBe('failed'));
    expect(engine.list()[0]!.error).toContain('cannot count b');

    broken = false; // the cause is fixed
    const [report] = await engine.start();
    expect(report).toMatchObject({ mode: 'resumed' });
    expect(engine.list()[0]).toMatchObject({ status: 'running' });
    expect(engine.list()[0]!.error).toBeUndefined();
    await h.append(ev('c'));
    await engine.waitFor();
    // the half-applied state of the failure is gone: each record counted once
    expect(engine.query('counts').state).toEqual({ a: 3, b: 1, c: 1 });
  });
});

describe.each(LOGS)('aborting the start signal, over $kind', (logs) => {
  it('ends following with status stopped, and start() may be called again', async () => {
    const { h, engine } = await openApp(logs);
    const ac = new AbortController();
    await engine.start({ signal: ac.signal });
    ac.abort();
    await vi.waitFor(() => expect(engine.query('counts').status).toBe('stopped'));
    await h.append(ev('late'));
    await settle();
    expect(engine.query('counts').state).toEqual({ a: 3 });
    await expect(engine.start()).resolves.toMatchObject([{ mode: 'resumed' }]);
    await engine.waitFor();
    expect(engine.query('counts').state).toEqual({ a: 3, late: 1 });
  });

  it('still stops the loop that rebuild() paused and resumed', async () => {
    const { h, engine } = await openApp(logs);
    const ac = new AbortController();
    await engine.start({ signal: ac.signal });
    await engine.rebuild('counts');
    expect(engine.query('counts').status).toBe('running');
    ac.abort();
    await vi.waitFor(() => expect(engine.query('counts').status).toBe('stopped'));
    await h.append(ev('late'));
    await settle();
    expect(engine.query('counts').state).toEqual({ a: 3 });
  });

  it('during the initial rebuild reports mode aborted, saves nothing and does not follow', async () => {
    const h = await logs.create();
    for (let k = 0; k < 50; k++) await h.append(ev('a'));
    const ac = new AbortController();
    // the first progress report comes before the first batch: the abort lands mid-rebuild, deterministically
    const engine = engineOver(h, { logger: logger(), batchSize: 10, onProgress: () => ac.abort() });
    engine.register(counts());
    const [report] = await engine.start({ signal: ac.signal });
    expect(report).toMatchObject({ name: 'counts', mode: 'aborted', reason: 'no-snapshot', checkpoint: 0, events: 0 });
    expect(report!.detail).toContain('nothing was saved');
    expect(engine.query('counts')).toMatchObject({ status: 'stopped', checkpoint: 0, state: {} });
    expect(hasSnapshot(h, 'counts')).toBe(false);
    await h.append(ev('late'));
    await settle();
    expect(engine.query('counts').checkpoint).toBe(0);
  });
});

describe.each(LOGS)('stop() while start() is rebuilding, over $kind', (logs) => {
  it('aborts the start and waits for it: nothing follows afterwards', async () => {
    const h = await logs.create();
    for (let k = 0; k < 50; k++) await h.append(ev('a'));
    let stopping: Promise<void> | undefined;
    const engine = engineOver(h, { logger: logger(), batchSize: 10, onProgress: () => (stopping ??= engine.stop()) });
    engine.register(counts());
    const starting = engine.start();
    await stopping;
    // stop() returned only once the start was over
    expect(engine.query('counts').status).toBe('stopped');
    const [report] = await starting;
    expect(report).toMatchObject({ mode: 'aborted' });
    await h.append(ev('late'));
    await settle();
    expect(engine.query('counts').checkpoint).toBe(0);
    // nothing follows, so a start is not refused, and it does the rebuild that was cut short
    const again = engineOver(h, { logger: logger() });
    again.register(counts());
    await expect(again.start({ follow: false })).resolves.toMatchObject([{ mode: 'rebuilt', reason: 'no-snapshot', events: 51 }]);
  });
});

describe.each(LOGS)('the log closed under a following projection, over $kind', (logs) => {
  it('ends its loop as stopped, not failed, with no warning', async () => {
    const { h, engine, log } = await openApp(logs);
    await engine.start();
    await h.close();
    await vi.waitFor(() => expect(engine.query('counts').status).toBe('stopped'));
    expect(engine.list()[0]!.error).toBeUndefined();
    expect(log.warn).not.toHaveBeenCalled();
    await engine.stop();
    expect(engine.query('counts').status).toBe('stopped');
  });
});

describe.each(LOGS)('rebuild() against other lifecycle calls, over $kind', (logs) => {
  it('a second rebuild() of the same projection, or a start(), while it rebuilds is refused with PROJECTION_BUSY', async () => {
    const { engine } = await openApp(logs);
    await engine.start();
    const first = engine.rebuild('counts');
    await expect(engine.rebuild('counts')).rejects.toMatchObject({ code: ProjectionErrorCodes.Busy, message: expect.stringContaining('already rebuilding') });
    await first;
    expect(engine.query('counts')).toMatchObject({ status: 'running', state: { a: 3 } });
    await engine.stop();
    const again = engine.rebuild('counts');
    await expect(engine.start()).rejects.toMatchObject({ code: ProjectionErrorCodes.Busy, message: expect.stringContaining('is rebuilding') });
    await again;
  });

  it('stop() during a rebuild() of a following projection: the loop is not resumed afterwards', async () => {
    const { h, engine } = await openApp(logs);
    await engine.start();
    const rebuilding = engine.rebuild('counts');
    await engine.stop();
    await rebuilding;
    expect(engine.query('counts').status).toBe('stopped');
    await h.append(ev('late'));
    await settle();
    expect(engine.query('counts').state).toEqual({ a: 3 });
  });
});
