import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { CONSUMER_REGISTRY } from '@episteme/consumers';
import { PROJECTION_ENGINE } from '@episteme/projections';
import { SimulatedDisk } from '@episteme/wal/testing';
import { AssertionService, EVENT_STORE, JOURNAL_OPTIONS, appOf, resolveConfig, wire, type BeliefsState } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'episteme-demo-di-'));
  dirs.push(d);
  return d;
};

describe('composition root', () => {
  it('resolves the app with real components from one container', async () => {
    const dataDir = temp();
    const c = await wire(container.createChildContainer(), resolveConfig({ dataDir }, {}));
    const app = appOf(c);
    expect(c.resolve(EVENT_STORE)).toBe(app.store);
    expect(c.resolve(CONSUMER_REGISTRY)).toBe(c.resolve(CONSUMER_REGISTRY));
    expect(c.resolve(PROJECTION_ENGINE).names).toEqual(['beliefs', 'stats']);
    expect(c.resolve(AssertionService)).toBeInstanceOf(AssertionService);
    expect(app.store.dir).toBe(join(dataDir, 'journal'));
    await app.engine.start();
    const r = await app.service.assert({ subject: 'mars', predicate: 'hasColor', object: 'red', confidence: 0.9, source: 'test' });
    await app.engine.waitFor();
    expect(app.engine.query<BeliefsState>('beliefs').state.subjectOf.get(r.id)).toBe('mars');
    expect((await app.store.readStream(r.stream)).events.map((e) => e.type)).toEqual(['AssertionMade']);
    await app.engine.stop();
    await app.store.close();
  });

  it('lets a test swap the journal options through the container', async () => {
    const dataDir = temp();
    const elsewhere = join(temp(), 'swapped');
    const child = container.createChildContainer();
    child.register(JOURNAL_OPTIONS, { useValue: { dir: elsewhere, durability: 'none', maxSegmentBytes: 4096 } });
    const app = appOf(await wire(child, resolveConfig({ dataDir }, {})));
    expect(app.store.dir).toBe(elsewhere);
    for (let i = 0; i < 50; i++) await app.service.assert({ subject: `s${i}`, predicate: 'p', object: 'o', confidence: 0.5, source: 't' });
    expect(readdirSync(elsewhere).filter((n) => n.endsWith('.wal')).length).toBeGreaterThan(1);
    await app.store.close();
  });

  it('puts the audit export on the journal\'s FileIO: a journal on a simulated disk has its audit file there too', async () => {
    const dataDir = temp();
    const disk = new SimulatedDisk();
    const child = container.createChildContainer();
    child.register(JOURNAL_OPTIONS, { useValue: { dir: '/sim/journal', io: disk } });
    const app = appOf(await wire(child, resolveConfig({ dataDir }, {})));
    app.audit.open();
    app.audit.close();
    expect(disk.stat(app.audit.path)).toMatchObject({ isFile: true });
    expect(existsSync(app.audit.path)).toBe(false);
    await app.store.close();
  });

  it('takes options from flags, then environment variables, then defaults', () => {
    expect(resolveConfig({}, {})).toMatchObject({ dataDir: './episteme-data', durability: 'immediate', groupCommit: true });
    expect(resolveConfig({}, { EPISTEME_DATA: '/env', EPISTEME_DURABILITY: 'none', EPISTEME_GROUP_COMMIT: 'off' })).toMatchObject({ dataDir: '/env', durability: 'none', groupCommit: false });
    expect(resolveConfig({ dataDir: '/flag', durability: 'immediate' }, { EPISTEME_DATA: '/env', EPISTEME_DURABILITY: 'none' })).toMatchObject({ dataDir: '/flag', durability: 'immediate' });
    expect(() => resolveConfig({ durability: 'sometimes' }, {})).toThrow(/durability/);
    expect(() => resolveConfig({ maxSegmentBytes: '12' }, {})).toThrow(/segment size/);
    expect(resolveConfig({}, {}).lockWaitMs).toBe(5000);
    expect(resolveConfig({ lockWaitMs: '0' }, { EPISTEME_LOCK_WAIT: '100' }).lockWaitMs).toBe(0);
    expect(resolveConfig({}, { EPISTEME_LOCK_WAIT: '100' }).lockWaitMs).toBe(100);
    expect(() => resolveConfig({}, { EPISTEME_LOCK_WAIT: '-5' })).toThrow(/lock wait/);
  });
});
