import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, nodeFileIO } from '@episteme/wal';
import { SimulatedDisk } from '@episteme/wal/testing';
import { ConsumerErrorCodes, ConsumerRegistry, FileCursorStore, runConsumer } from '../src/index.js';
import { commitHandledAsync } from '../src/registry.js';
import { quiet, tempDir, watchAsyncCommits } from './helpers.js';
import { seededRandom, simDir } from '../../wal/test/rng.js';

describe('cursor commits under power loss', () => {
  it.each(['sync', 'async'] as const)('reads back the old or the new cursor, never garbage, whatever point of a commit the power is lost at (%s commit)', async (mode) => {
    let cases = 0;
    for (let cut = 0; cut < 12; cut++) {
      for (const keepPrefix of [false, true]) {
        for (let variant = 0; variant < 4; variant++) {
          const rnd = seededRandom(cut * 100 + variant * 10 + (keepPrefix ? 1 : 0));
          const disk = new SimulatedDisk(rnd);
          const dir = simDir();
          const journal = await Journal.open({ dir, io: disk });
          const offsets = (await journal.appendBatch(Array.from({ length: 20 }, (_, i) => Buffer.from(`e${i}`)))).map((a) => a.offset);
          const registry = ConsumerRegistry.forJournal(journal, { io: disk, logger: quiet });
          registry.register('c');
          registry.commit('c', offsets[5]!);
          const oldCursor = offsets[5]!;
          const newCursor = offsets[10 + variant]!;
          let ops = 0;
          disk.inject = () => {
            if (ops++ === cut) disk.freeze();
            return undefined;
          };
          try {
            if (mode === 'sync') registry.commit('c', newCursor);
            else await registry[commitHandledAsync]('c', newCursor);
          } catch {
            // the power went out during the commit
          }
          await journal.close().catch(() => undefined);
          disk.inject = undefined;
          disk.powerLoss({ keepPrefix });
          const reopened = await Journal.open({ dir, io: disk });
          const cursor = new FileCursorStore(dir, disk).read('c')!.cursor;
          expect([oldCursor, newCursor], `cut at op ${cut}, keepPrefix ${keepPrefix}`).toContain(cursor);
          expect(ConsumerRegistry.forJournal(reopened, { io: disk, logger: quiet }).get('c').cursor).toBe(cursor);
          await reopened.close();
          cases++;
        }
      }
    }
    expect(cases).toBe(96);
  });

  it('a running consumer, its commits in flight off the event loop: after a power loss at any moment the cursor is one it committed, at or past the last commit that resolved', async () => {
    let cases = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const rnd = seededRandom(seed);
      const disk = new SimulatedDisk(rnd);
      const dir = simDir();
      const journal = await Journal.open({ dir, io: disk });
      await journal.appendBatch(Array.from({ length: 400 }, (_, i) => Buffer.from(`event-${i}`)));
      const registry = ConsumerRegistry.forJournal(journal, { io: disk, logger: quiet });
      registry.register('c');
      const started: number[] = [];
      let resolved = 0;
      watchAsyncCommits(registry.store, {
        started: (state) => void started.push(state.cursor),
        resolved: (state) => void (resolved = Math.max(resolved, state.cursor)),
      });
      const cutAt = Math.floor(rnd() * 400);
      let handled = 0;
      let lastNext = 0;
      const result = await runConsumer(registry, 'c', {
        // an async handler now and then, so that commits in flight interleave with handling
        handler: (r) => {
          if (handled++ === cutAt) disk.freeze();
          lastNext = r.next;
          return handled % 7 === 0 ? new Promise((res) => setImmediate(res)) : undefined;
        },
        batchSize: 16,
        commitEveryRecords: 5 + (seed % 9),
        retry: { maxAttempts: 1 },
        stopAtHead: true,
      });
      expect(result.state).toBe('failed'); // the frozen disk fails the commit in flight or the final one
      await journal.close().catch(() => undefined);
      disk.powerLoss({ keepPrefix: seed % 2 === 0 });
      const reopened = await Journal.open({ dir, io: disk });
      const cursor = new FileCursorStore(dir, disk).read('c')!.cursor;
      expect([0, ...started], `seed ${seed}`).toContain(cursor);
      expect(cursor, `seed ${seed}: behind a commit that resolved`).toBeGreaterThanOrEqual(resolved);
      expect(cursor, `seed ${seed}: past the last handled record`).toBeLessThanOrEqual(lastNext);
      await reopened.close();
      cases++;
    }
    expect(cases).toBe(24);
  });

  it('cleanup decides with the last durable commit: a commit written but not yet synced is visible, yet a power loss then leaves every needed record', async () => {
    const disk = new SimulatedDisk(seededRandom(99));
    const dir = simDir();
    const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: 300, preallocateBytes: 0 });
    const offsets: number[] = [];
    for (let i = 0; i < 40; i++) offsets.push((await journal.append(Buffer.from(`event-${i}`.padEnd(40, '.')))).offset);
    // the consumer's syncs wait for the test: its commit stays in flight
    let release: () => void = () => undefined;
    const gate = new Promise<void>((res) => (release = res));
    const consumerIO = new Proxy(disk, {
      get(target, prop) {
        if (prop === 'fsyncAsync') return (fd: number) => gate.then(() => target.fsyncAsync(fd));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const consumer = ConsumerRegistry.forJournal(journal, { io: consumerIO, logger: quiet, autoCleanup: false });
    consumer.register('c');
    consumer.commit('c', offsets[5]!); // durable
    const inFlight = consumer[commitHandledAsync]('c', offsets[35]!); // written, not synced
    const writer = ConsumerRegistry.forJournal(journal, { io: disk, logger: quiet }); // the writer's registry, as in another process
    expect(writer.get('c').cursor).toBe(offsets[35]); // already visible
    expect(writer.lowestCursor()).toBe(offsets[5]);
    writer.cleanup();
    expect(journal.earliest).toBeLessThanOrEqual(offsets[5]!);
    disk.freeze(); // the power goes out before the commit's sync
    release();
    await inFlight.catch(() => undefined);
    await journal.close().catch(() => undefined);
    disk.powerLoss();
    const reopened = await Journal.open({ dir, io: disk });
    const cursor = new FileCursorStore(dir, disk).read('c')!.cursor;
    expect(cursor).toBe(offsets[5]);
    expect(reopened.earliest, 'cleanup deleted records the consumer still needs').toBeLessThanOrEqual(cursor);
    await reopened.close();
  });
  it('a cursor a crash left visible but not durable is made durable by the next registry: a later power loss does not move it back behind what that registry reported', async () => {
    for (const failure of ['rename not synced', 'slot write not synced'] as const) {
      const disk = new SimulatedDisk(seededRandom(5));
      const dir = simDir();
      const journal = await Journal.open({ dir, io: disk });
      const offsets = (await journal.appendBatch(Array.from({ length: 20 }, (_, i) => Buffer.from(`e${i}`)))).map((a) => a.offset);
      const registry = ConsumerRegistry.forJournal(journal, { io: disk, logger: quiet });
      registry.register('c');
      registry.commit('c', offsets[3]!);
      if (failure === 'rename not synced') {
        // a failed in-place commit makes the next one rewrite the file whole; its directory sync fails
        disk.inject = ({ op, path }) => (op === 'fsync' && path.endsWith('c.cursor') ? { error: 'EIO' } : undefined);
        expect(() => registry.commit('c', offsets[5]!)).toThrow();
        disk.inject = ({ op }) => (op === 'syncDir' ? { error: 'EIO' } : undefined);
        expect(() => registry.commit('c', offsets[8]!)).toThrow();
      } else {
        // an async commit written, its sync still running when the process dies
        void registry[commitHandledAsync]('c', offsets[8]!).catch(() => undefined);
      }
      disk.inject = undefined;
      await journal.close().catch(() => undefined);

      // the process restarts (no power loss): the new registry reads what the page cache shows
      const restarted = await Journal.open({ dir, io: disk });
      const reported = ConsumerRegistry.forJournal(restarted, { io: disk, logger: quiet }).get('c').cursor;
      expect(reported, failure).toBe(offsets[8]!);
      disk.freeze();
      await restarted.close().catch(() => undefined);
      disk.powerLoss();
      const after = await Journal.open({ dir, io: disk });
      expect(ConsumerRegistry.forJournal(after, { io: disk, logger: quiet }).get('c').cursor, `${failure}: moved back after a power loss`).toBe(reported);
      await after.close();
    }
  });
});

describe('the cursor directory', () => {
  it('made where not even the journal directory exists yet: every level made is synced, so a cursor written survives a power loss', () => {
    const disk = new SimulatedDisk();
    const dir = simDir(); // /sim/<unique>/journal: none of it exists
    new FileCursorStore(dir, disk).write({ name: 'c', cursor: 42, committedAt: new Date(0).toISOString(), state: 'registered' });
    disk.powerLoss();
    expect(new FileCursorStore(dir, disk).read('c')?.cursor).toBe(42);
  });

  it('a dangling symbolic link in its place: a ConsumerIoError that names the link and its target, nothing created', () => {
    const root = tempDir();
    const target = join(root, 'gone', 'consumers');
    symlinkSync(target, join(root, 'consumers'));
    let caught: unknown;
    try {
      new FileCursorStore(root, nodeFileIO).write({ name: 'c', cursor: 0, committedAt: new Date(0).toISOString(), state: 'registered' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: ConsumerErrorCodes.Io, errno: 'ENOENT' });
    expect((caught as Error).message).toContain(`${join(root, 'consumers')} is a dangling symbolic link to ${target}`);
    expect(readdirSync(root)).toEqual(['consumers']);
  });
});
