import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { SimulatedDisk } from '@episteme/wal/testing';
import { ConsumerRegistry } from '@episteme/consumers';
import {
  FileSnapshotStore,
  InMemorySnapshotStore,
  ProjectionEngine,
  ProjectionErrorCodes,
  isProjectionError,
  type ProjectionInfo,
  type RebuildProgress,
} from '../src/index.js';
import { appendEvents, canonicalHash, later, quiet, tally, tempDir, type Ev } from './helpers.js';
import { simDir } from '../../wal/test/rng.js';
import { SLOT_BYTES } from '../../consumers/src/cursorFile.js';

const events = (n: number, from = 0): Ev[] => Array.from({ length: n }, (_, i) => ({ type: ['a', 'b', 'c'][(from + i) % 3]!, n: from + i }));

async function freshState(journal: Journal, version = 1): Promise<string> {
  const engine = new ProjectionEngine({ journal, store: new InMemorySnapshotStore(), logger: quiet });
  engine.register(tally(version));
  await engine.start({ follow: false });
  return canonicalHash(engine.query('tally').state);
}

/** An app whose log is kept from 0 (no auto cleanup) unless `cleanup` says otherwise. */
async function openApp(dir: string, version = 1, opts: { io?: SimulatedDisk; cleanup?: boolean } = {}) {
  const journal = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 1024, ...(opts.io ? { io: opts.io } : {}) });
  const registry = new ConsumerRegistry(journal, { logger: quiet, autoCleanup: opts.cleanup === true, ...(opts.io ? { io: opts.io } : {}) });
  const engine = new ProjectionEngine({ journal, registry, store: new FileSnapshotStore(dir, opts.io), logger: quiet, snapshotEveryEvents: 10 });
  engine.register(tally(version));
  return { journal, registry, engine };
}

/** A data directory whose app handled 30 events, snapshotted and closed. */
async function closedAppWith30Events(): Promise<string> {
  const dir = tempDir();
  const app = await openApp(dir);
  await appendEvents(app.journal, events(30));
  await app.engine.start({ follow: false });
  await app.engine.stop();
  await app.journal.close();
  return dir;
}

describe('ProjectionEngine start decisions', () => {
  it('resumes from its snapshot on a clean restart', async () => {
    const dir = tempDir();
    const app = await openApp(dir);
    await app.engine.start();
    await appendEvents(app.journal, events(50));
    await app.engine.waitFor();
    await app.engine.stop();
    await app.journal.close();
    const again = await openApp(dir);
    later(() => again.journal.close());
    const [report] = await again.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'resumed', events: 0, checkpoint: again.journal.head });
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
  });

  it('rebuilds from 0 when the version changed, and reports it', async () => {
    const dir = tempDir();
    const app = await openApp(dir, 1);
    await appendEvents(app.journal, events(30));
    await app.engine.start({ follow: false });
    await app.engine.stop();
    await app.journal.close();
    const v2 = await openApp(dir, 2);
    later(() => v2.journal.close());
    const [report] = await v2.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'rebuilt', reason: 'version-changed', events: 30 });
    expect(canonicalHash(v2.engine.query('tally').state)).toBe(await freshState(v2.journal, 2));
  });

  it('rebuilds from 0 when the snapshot is damaged, never reading wrong state', async () => {
    const dir = await closedAppWith30Events();
    const path = join(dir, 'projections', 'tally.snapshot');
    const bytes = readFileSync(path);
    bytes[bytes.length - 5]! ^= 0x20; // one flipped bit in the state
    writeFileSync(path, bytes);
    const again = await openApp(dir);
    later(() => again.journal.close());
    const [report] = await again.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'rebuilt', reason: 'snapshot-damaged' });
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
  });

  it('rebuilds when asked, with progress events, and follows new records afterwards', async () => {
    const dir = tempDir();
    const app = await openApp(dir);
    later(() => app.journal.close());
    await appendEvents(app.journal, events(300));
    await app.engine.start();
    const progress: RebuildProgress[] = [];
    const report = await app.engine.rebuild('tally', { onProgress: (p) => progress.push(p) });
    expect(report.events).toBe(300);
    expect(progress[0]).toMatchObject({ done: 0, total: 300 });
    expect(progress[progress.length - 1]).toMatchObject({ done: 300, total: 300, checkpoint: app.journal.head });
    await appendEvents(app.journal, events(5, 300));
    await app.engine.waitFor();
    expect(app.engine.query<{ count: number }>('tally').state.count).toBe(305);
    await app.engine.stop();
  });
});

describe('ProjectionEngine after a crash took records away', () => {
  /** An app over a simulated disk whose first 40 events are synced. */
  async function syncedApp() {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const app = await openApp(dir, 1, { io: disk });
    await appendEvents(app.journal, events(40));
    await app.journal.sync();
    return { disk, dir, app };
  }

  /** The power goes out under `app` (unsynced writes dropped); the app reopened. */
  async function afterPowerLoss(app: Awaited<ReturnType<typeof openApp>>, disk: SimulatedDisk, dir: string) {
    disk.freeze();
    await app.journal.close().catch(() => undefined);
    disk.powerLoss();
    const again = await openApp(dir, 1, { io: disk });
    later(() => again.journal.close());
    return again;
  }

  it('never snapshots past the synced head in the writer\'s process: after a power loss it resumes, nothing to rebuild', async () => {
    const { disk, dir, app } = await syncedApp();
    await app.engine.start();
    // durability none: visible and projected before any sync; the snapshot syncs them first
    await appendEvents(app.journal, events(25, 40));
    await app.engine.waitFor();
    await app.engine.stop();
    const snapshotCheckpoint = app.engine.query('tally').checkpoint;
    expect(snapshotCheckpoint).toBe(app.journal.head);
    const again = await afterPowerLoss(app, disk, dir);
    expect(again.journal.head).toBe(snapshotCheckpoint);
    const [report] = await again.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'resumed', checkpoint: snapshotCheckpoint });
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
  });

  it('detects a checkpoint beyond what power loss left of the log, rebuilds with the reason, and equals a fresh rebuild', async () => {
    const { disk, dir, app } = await syncedApp();
    // durability none: published to readers, never synced
    await appendEvents(app.journal, events(25, 40));
    await new Promise((r) => setImmediate(r));
    // a projection in another process (a read-only journal) cannot sync the
    // writer's journal: its snapshot covers records a power loss takes away
    const reader = await Journal.openForRead({ dir, io: disk });
    const elsewhere = new ProjectionEngine({ journal: reader, store: new FileSnapshotStore(dir, disk), logger: quiet });
    elsewhere.register(tally(1));
    await elsewhere.start({ follow: false });
    await elsewhere.stop();
    const snapshotCheckpoint = elsewhere.query('tally').checkpoint;
    expect(snapshotCheckpoint).toBe(app.journal.head);
    await reader.close();
    const again = await afterPowerLoss(app, disk, dir);
    expect(again.journal.head).toBeLessThan(snapshotCheckpoint);
    const [report] = await again.engine.start({ follow: false });
    expect(report!.mode).toBe('rebuilt');
    expect(['checkpoint-beyond-head', 'log-cut-below-checkpoint']).toContain(report!.reason);
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
  });

  it('detects a torn tail cut below its checkpoint by recovery (log-cut-below-checkpoint)', async () => {
    const dir = tempDir();
    const app = await openApp(dir);
    await appendEvents(app.journal, events(20));
    await app.engine.start();
    await app.engine.waitFor();
    await app.engine.stop();
    await app.journal.close();
    // a torn write, as a crash would leave it, in the last record the projection had seen
    const segs = (await import('node:fs')).readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
    const last = join(dir, segs[segs.length - 1]!);
    truncateSync(last, statSync(last).size - 3);
    const again = await openApp(dir);
    later(() => again.journal.close());
    expect(again.journal.recovery!.cuts).toHaveLength(1);
    const [report] = await again.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'rebuilt', reason: 'log-cut-below-checkpoint' });
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
    expect(again.engine.query('tally').checkpoint).toBe(again.journal.head);
  });
});

describe('rebuild after cleanup deleted history', () => {
  it('fails with a typed error and keeps the old snapshot byte for byte', async () => {
    const dir = tempDir();
    const app = await openApp(dir);
    later(() => app.journal.close());
    await appendEvents(app.journal, events(200));
    await app.engine.start({ follow: false });
    await app.engine.stop();
    // the projection's consumer is at the head; nothing else holds the log
    expect(app.registry.cleanup().length).toBeGreaterThan(0);
    expect(app.journal.earliest).toBeGreaterThan(0);
    const path = join(dir, 'projections', 'tally.snapshot');
    const before = readFileSync(path);
    const err = await app.engine.rebuild('tally').catch((e: unknown) => e);
    expect(isProjectionError(err, ProjectionErrorCodes.HistoryDeleted)).toBe(true);
    expect((err as Error).message).toContain(`its snapshot (checkpoint ${app.journal.head}) was kept`);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(app.engine.query('tally').checkpoint).toBe(app.journal.head);
    await app.journal.close();
    // a new version has no usable snapshot: the error does not claim one was kept
    const v2 = await openApp(dir, 2);
    later(() => v2.journal.close());
    await v2.engine.start({ follow: false }).catch(() => undefined);
    const again = await v2.engine.rebuild('tally').catch((e: unknown) => e);
    expect(isProjectionError(again, ProjectionErrorCodes.HistoryDeleted)).toBe(true);
    expect((again as Error).message).toMatch(/; nothing was changed \(it has no usable snapshot\)$/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('holds back cleanup while the projection lags (it is a registered consumer)', async () => {
    const dir = tempDir();
    const app = await openApp(dir);
    later(() => app.journal.close());
    await app.engine.start({ follow: false });
    await app.engine.stop();
    await appendEvents(app.journal, events(200));
    app.registry.register('other', { startFrom: 'latest' });
    app.registry.cleanup();
    expect(app.journal.earliest).toBe(0);
  });
});

describe('a snapshot that cannot be written', () => {
  it('keeps the projection following (the error shows in list) and saves it once the disk has room again', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: disk });
    later(() => journal.close());
    const registry = new ConsumerRegistry(journal, { logger: quiet, autoCleanup: false, io: disk });
    const engine = new ProjectionEngine({ journal, registry, store: new FileSnapshotStore(dir, disk), logger: quiet, snapshotEveryEvents: 10, snapshotEveryMs: 20 });
    engine.register(tally(1));
    await engine.start();
    const full = (on: boolean): void => {
      disk.inject = on ? ({ op, path }) => (op === 'write' && path.includes('/projections/') ? { error: 'ENOSPC' } : undefined) : undefined;
    };
    const info = (): ProjectionInfo => engine.list().find((p) => p.name === 'tally')!;
    full(true);
    await appendEvents(journal, events(30));
    await engine.waitFor();
    await eventually(() => info().error !== undefined);
    expect(info()).toMatchObject({ status: 'running', checkpoint: journal.head });
    expect(info().error).toMatch(/snapshot failed \(retrying\).*ENOSPC/);
    expect(registry.get('projection.tally').cursor).toBe(0); // still holds cleanup from the last snapshot
    full(false);
    await appendEvents(journal, events(10, 30));
    await engine.waitFor();
    await eventually(() => registry.get('projection.tally').cursor === journal.head);
    expect(info().status).toBe('running');
    expect(info().error).toBeUndefined();
    expect(registry.get('projection.tally').cursor).toBe(journal.head);
    expect(new FileSnapshotStore(dir, disk).load('tally')).toMatchObject({ checkpoint: journal.head, events: 40 });
    await engine.stop();
  });
});

/** Polls until `check` holds (the follow loop snapshots on its own schedule). */
async function eventually(check: () => boolean): Promise<void> {
  for (let waited = 0; !check() && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
}

/**
 * A projection following a journal of 30 events, snapshotting every 10
 * events or 20 ms, its registry and engine sharing one logger (as an app
 * wires them), its cursor caught up with the head.
 */
async function followingAfter30Events() {
  const dir = tempDir();
  const journal = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 1024 });
  const warnings: string[] = [];
  const logger = { warn: (m: string) => void warnings.push(m), info: () => undefined };
  const registry = new ConsumerRegistry(journal, { logger, autoCleanup: false });
  const engine = new ProjectionEngine({ journal, registry, store: new FileSnapshotStore(dir), logger, snapshotEveryEvents: 10, snapshotEveryMs: 20 });
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
  await appendEvents(journal, events(30));
  await engine.waitFor();
  await eventually(() => cursor() === journal.head);
  return { dir, journal, warnings, registry, engine, info, cursor };
}

/** Bit rot in both slots of a projection's cursor file: no valid cursor left. */
function damageCursor(dir: string, projection = 'tally'): void {
  const path = join(dir, 'consumers', `projection.${projection}.cursor`);
  const bytes = readFileSync(path);
  bytes[20]! ^= 1;
  bytes[SLOT_BYTES + 20]! ^= 1;
  writeFileSync(path, bytes);
}

describe('a damaged projection cursor', () => {
  it('is written anew at the earliest offset with a warning (the app starts), and the next snapshot moves it to the checkpoint', async () => {
    const dir = await closedAppWith30Events();
    const path = join(dir, 'consumers', 'projection.tally.cursor');
    const bytes = readFileSync(path);
    bytes[20]! ^= 1; // both slots: no valid cursor left
    bytes[SLOT_BYTES + 20]! ^= 1;
    writeFileSync(path, bytes);

    const journal = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 1024 });
    later(() => journal.close());
    const registry = new ConsumerRegistry(journal, { logger: quiet, autoCleanup: false });
    const warnings: string[] = [];
    const engine = new ProjectionEngine({ journal, registry, store: new FileSnapshotStore(dir), logger: { warn: (m) => warnings.push(m), info: () => undefined } });
    engine.register(tally(1));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^projection "tally": its cursor file .*projection\.tally\.cursor was damaged \(no valid slot .*\); rewritten at the earliest retained offset 0/);
    expect(registry.get('projection.tally').cursor).toBe(0);
    await appendEvents(journal, events(15, 30));
    const [report] = await engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'resumed', events: 15, checkpoint: journal.head });
    await engine.stop();
    expect(registry.get('projection.tally').cursor).toBe(journal.head);
  });

  it('is warned about once when the registry and the engine share a logger (as an app wires them): by the engine, which repairs it', async () => {
    const dir = await closedAppWith30Events();
    const path = join(dir, 'consumers', 'projection.tally.cursor');
    const bytes = readFileSync(path);
    bytes[20]! ^= 1;
    bytes[SLOT_BYTES + 20]! ^= 1;
    writeFileSync(path, bytes);

    const journal = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 1024 });
    later(() => journal.close());
    const warnings: string[] = [];
    const logger = { warn: (m: string) => void warnings.push(m), info: () => undefined };
    const registry = new ConsumerRegistry(journal, { logger, autoCleanup: false });
    const engine = new ProjectionEngine({ journal, registry, store: new FileSnapshotStore(dir), logger });
    engine.register(tally(1));
    const [report] = await engine.start({ follow: false });
    await engine.stop();
    expect(warnings).toEqual([
      expect.stringMatching(/^projection "tally": its cursor file .*projection\.tally\.cursor was damaged \(no valid slot .*\); rewritten at the earliest retained offset 0\b.*next snapshot moves it to the projection's checkpoint/),
    ]);
    expect(report).toMatchObject({ mode: 'resumed', events: 0, checkpoint: journal.head });
    expect(registry.get('projection.tally').cursor).toBe(0);
  });

  it('damaged while the projection follows: its next snapshot rewrites it at the checkpoint with one warning, and the projection goes on with the state of a fresh rebuild', async () => {
    const { dir, journal, warnings, registry, engine, info, cursor } = await followingAfter30Events();
    expect(cursor()).toBe(journal.head);

    damageCursor(dir); // between two snapshots
    await appendEvents(journal, events(20, 30));
    await engine.waitFor();
    await eventually(() => info().status !== 'running' || cursor() === journal.head);
    expect(info()).toMatchObject({ status: 'running', checkpoint: journal.head });
    expect(info().error).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(
        /^projection "tally": its cursor file .*projection\.tally\.cursor was damaged \(no valid slot .*\); rewritten at the projection's checkpoint \d+, which its snapshot just saved; the projection's state is untouched and it goes on$/,
      ),
    ]);
    expect(cursor()).toBe(journal.head);
    expect(new FileSnapshotStore(dir).load('tally')).toMatchObject({ checkpoint: journal.head, events: 50 });
    expect(canonicalHash(engine.query('tally').state)).toBe(await freshState(journal));

    // it goes on: later records are applied and its cursor follows them
    await appendEvents(journal, events(10, 50));
    await engine.waitFor();
    await eventually(() => cursor() === journal.head);
    expect(cursor()).toBe(journal.head);
    await engine.stop();
    expect(canonicalHash(engine.query('tally').state)).toBe(await freshState(journal));
    await journal.close();

    // nothing lost on disk either: a restart resumes from the snapshot, with a fresh rebuild's state
    const again = await openApp(dir);
    later(() => again.journal.close());
    const [report] = await again.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'resumed', events: 0, checkpoint: again.journal.head });
    expect(canonicalHash(again.engine.query('tally').state)).toBe(await freshState(again.journal));
    expect(warnings).toHaveLength(1);
  });
});

describe('a projection cursor deleted while the projection follows (`consumers delete` from another process)', () => {
  it('is registered again at the next snapshot, with one warning, and the projection goes on with the state of a fresh rebuild', async () => {
    const { dir, journal, warnings, registry, engine, info, cursor } = await followingAfter30Events();

    new ConsumerRegistry(journal, { logger: quiet, autoCleanup: false }).delete('projection.tally');
    expect(cursor()).toBeUndefined();
    await appendEvents(journal, events(20, 30));
    await engine.waitFor();
    await eventually(() => info().status !== 'running' || cursor() === journal.head);
    expect(info()).toMatchObject({ status: 'running', checkpoint: journal.head });
    expect(info().error).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(/^projection "tally": its cursor \(consumer "projection\.tally"\) was deleted while the projection ran; registered again at the projection's checkpoint \d+/),
    ]);
    expect(cursor()).toBe(journal.head);
    await engine.stop();
    expect(canonicalHash(engine.query('tally').state)).toBe(await freshState(journal));
    await journal.close();
  });
});
