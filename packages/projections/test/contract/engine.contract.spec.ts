import { describe, expect, it } from 'vitest';
import type { LogReader } from '@episteme/wal';
import { InMemorySnapshotStore, ProjectionEngine, ProjectionErrorCodes, isProjectionError, type ProjectionInfo, type RebuildProgress } from '../../src/index.js';
import { canonicalHash, encode, quiet, tally, type Ev } from '../helpers.js';
import { engineOver, LOGS, snapshotImage, snapshotsOf, type LogKind, type Subject } from './engines.js';

const events = (n: number, from = 0): Ev[] => Array.from({ length: n }, (_, i) => ({ type: ['a', 'b', 'c'][(from + i) % 3]!, n: from + i }));

/** The state of a projection rebuilt from nothing over `log`. */
async function freshState(log: LogReader, version = 1): Promise<string> {
  const engine = new ProjectionEngine({ log, store: new InMemorySnapshotStore(), logger: quiet });
  engine.register(tally(version));
  await engine.start({ follow: false });
  return canonicalHash(engine.query('tally').state);
}

async function appendEvents(h: Subject, evs: Ev[]): Promise<number[]> {
  return Promise.all(evs.map((e) => h.append(encode(e))));
}

/** An app over the log: its registry (kept from 0, no auto cleanup, unless `cleanup`), an engine with the tally projection. */
function appOver(h: Subject, version = 1, opts: { cleanup?: boolean } = {}) {
  const registry = h.registry({ logger: quiet, autoCleanup: opts.cleanup === true });
  const engine = engineOver(h, { registry, logger: quiet, snapshotEveryEvents: 10 });
  engine.register(tally(version));
  return { h, journal: h.log, registry, engine };
}

async function openApp(logs: LogKind, version = 1) {
  return appOver(await logs.create({ perUnit: 16 }), version);
}

/** Polls until `check` holds (the follow loop snapshots on its own schedule). */
async function eventually(check: () => boolean): Promise<void> {
  for (let waited = 0; !check() && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
}

describe.each(LOGS)('ProjectionEngine start decisions, over $kind', (logs) => {
  it('resumes from its snapshot on a clean restart', async () => {
    const app = await openApp(logs);
    await app.engine.start();
    await appendEvents(app.h, events(50));
    await app.engine.waitFor();
    await app.engine.stop();
    const again = appOver(await app.h.reopen());
    const [report] = await again.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'resumed', events: 0, checkpoint: again.journal.head });
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
  });

  it('rebuilds from 0 when the version changed, and reports it', async () => {
    const app = await openApp(logs, 1);
    await appendEvents(app.h, events(30));
    await app.engine.start({ follow: false });
    await app.engine.stop();
    const v2 = appOver(await app.h.reopen(), 2);
    const [report] = await v2.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'rebuilt', reason: 'version-changed', events: 30 });
    expect(canonicalHash(v2.engine.query('tally').state)).toBe(await freshState(v2.journal, 2));
  });

  it('rebuilds when asked, with progress events, and follows new records afterwards', async () => {
    const app = await openApp(logs);
    await appendEvents(app.h, events(300));
    await app.engine.start();
    const progress: RebuildProgress[] = [];
    const report = await app.engine.rebuild('tally', { onProgress: (p) => progress.push(p) });
    expect(report.events).toBe(300);
    expect(progress[0]).toMatchObject({ done: 0, total: 300 });
    expect(progress[progress.length - 1]).toMatchObject({ done: 300, total: 300, checkpoint: app.journal.head });
    await appendEvents(app.h, events(5, 300));
    await app.engine.waitFor();
    expect(app.engine.query<{ count: number }>('tally').state.count).toBe(305);
    await app.engine.stop();
  });

  it('detects a torn tail cut below its checkpoint by recovery (log-cut-below-checkpoint)', async () => {
    const app = await openApp(logs);
    await appendEvents(app.h, events(20));
    await app.engine.start();
    await app.engine.waitFor();
    await app.engine.stop();
    // a torn write, as a crash would leave it, in the last record the projection had seen
    const again = appOver(await app.h.reopen({ cutLastRecord: true }));
    expect(again.journal.truncatedAt).toBe(again.journal.head);
    const [report] = await again.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'rebuilt', reason: 'log-cut-below-checkpoint' });
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
    expect(again.engine.query('tally').checkpoint).toBe(again.journal.head);
  });
});

describe.each(LOGS)('rebuild after cleanup deleted history, over $kind', (logs) => {
  it('fails with a typed error and keeps the old snapshot as it was', async () => {
    const app = await openApp(logs);
    await appendEvents(app.h, events(200));
    await app.engine.start({ follow: false });
    await app.engine.stop();
    // the projection's consumer is at the head; nothing else holds the log
    expect(app.registry.cleanup().length).toBeGreaterThan(0);
    expect(app.journal.earliest).toBeGreaterThan(0);
    const before = snapshotImage(app.h, 'tally');
    const err = await app.engine.rebuild('tally').catch((e: unknown) => e);
    expect(isProjectionError(err, ProjectionErrorCodes.HistoryDeleted)).toBe(true);
    expect((err as Error).message).toContain(`its snapshot (checkpoint ${app.journal.head}) was kept`);
    expect(snapshotImage(app.h, 'tally')).toEqual(before);
    expect(app.engine.query('tally').checkpoint).toBe(app.journal.head);
    // a new version has no usable snapshot: the error does not claim one was kept
    const v2 = appOver(await app.h.reopen(), 2);
    await v2.engine.start({ follow: false }).catch(() => undefined);
    const again = await v2.engine.rebuild('tally').catch((e: unknown) => e);
    expect(isProjectionError(again, ProjectionErrorCodes.HistoryDeleted)).toBe(true);
    expect((again as Error).message).toMatch(/; nothing was changed \(it has no usable snapshot\)$/);
    expect(snapshotImage(v2.h, 'tally')).toEqual(before);
  });

  it('holds back cleanup while the projection lags (it is a registered consumer)', async () => {
    const app = await openApp(logs);
    await app.engine.start({ follow: false });
    await app.engine.stop();
    await appendEvents(app.h, events(200));
    app.registry.register('other', { startFrom: 'latest' });
    app.registry.cleanup();
    expect(app.journal.earliest).toBe(0);
  });

  it('keeps no cursor through a reader\'s registry, which cannot clean up: the projection is no consumer there', async () => {
    const h = await logs.create({ count: 0 });
    await appendEvents(h, events(20));
    const registry = await h.readerRegistry({ logger: quiet });
    const engine = engineOver(h, { registry, logger: quiet });
    engine.register(tally(1));
    await engine.start({ follow: false });
    await engine.stop();
    expect(registry.has('projection.tally')).toBe(false);
    expect(snapshotsOf(h).load('tally')).toMatchObject({ checkpoint: h.log.head, events: 20 });
  });
});

describe.each(LOGS)('a projection cursor deleted while the projection follows (`consumers delete` from another process), over $kind', (logs) => {
  it('is registered again at the next snapshot, with one warning, and the projection goes on with the state of a fresh rebuild', async () => {
    const h = await logs.create({ perUnit: 16 });
    const warnings: string[] = [];
    const logger = { warn: (m: string) => void warnings.push(m), info: () => undefined };
    const registry = h.registry({ logger, autoCleanup: false });
    const engine = engineOver(h, { registry, logger, snapshotEveryEvents: 10, snapshotEveryMs: 20 });
    engine.register(tally(1));
    await engine.start();
    const info = (): ProjectionInfo => engine.list().find((p) => p.name === 'tally')!;
    const cursor = (): number | undefined => {
      try {
        return registry.get('projection.tally').cursor;
      } catch {
        return undefined; // damaged or deleted
      }
    };
    await appendEvents(h, events(30));
    await engine.waitFor();
    await eventually(() => cursor() === h.log.head);

    h.registry({ logger: quiet, autoCleanup: false }).delete('projection.tally');
    expect(cursor()).toBeUndefined();
    await appendEvents(h, events(20, 30));
    await engine.waitFor();
    await eventually(() => info().status !== 'running' || cursor() === h.log.head);
    expect(info()).toMatchObject({ status: 'running', checkpoint: h.log.head });
    expect(info().error).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(/^projection "tally": its cursor \(consumer "projection\.tally"\) was deleted while the projection ran; registered again at the projection's checkpoint \d+/),
    ]);
    expect(cursor()).toBe(h.log.head);
    await engine.stop();
    expect(canonicalHash(engine.query('tally').state)).toBe(await freshState(h.log));
  });
});
