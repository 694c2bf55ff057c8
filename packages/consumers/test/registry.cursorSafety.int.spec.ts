/**
 * Cursor safety over a journal's files: a cursor is always a record
 * boundary within the retained log, whatever a payload holds, whatever a
 * concurrent cleanup in another process does, and whatever the file system
 * throws. What does not depend on the journal's files (every boundary is
 * accepted, a dead runner's consumer can be taken over, ...) runs in the
 * contract suite over every log (contract/registry.contract.spec.ts).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWalError, Journal, nodeFileIO, type FileIO } from '@episteme/wal';
import { encodeRecord } from '@episteme/wal/internals';
import { SimulatedDisk } from '@episteme/wal/testing';
import { ConsumerErrorCodes, ConsumerRegistry, FileCursorStore, isConsumerError, runConsumer } from '../src/index.js';
import { CURSOR_FILE_BYTES } from '../src/cursorFile.js';
import { quiet, tempDir, thrown, track } from './helpers.js';

let n = 0;
const simDir = (): string => `/sim-review-consumers/${process.pid}-${Date.now()}-${n++}`;

/** A FileIO whose fsync fails with EIO while `failing()` is true. */
function failingFsync(failing: () => boolean): FileIO {
  return {
    ...nodeFileIO,
    fsync: (fd) => {
      if (failing()) throw Object.assign(new Error('EIO: fsync (injected)'), { code: 'EIO' });
      nodeFileIO.fsync(fd);
    },
    fsyncAsync: async (fd) => {
      if (failing()) throw Object.assign(new Error('EIO: fsync (injected)'), { code: 'EIO' });
      await nodeFileIO.fsyncAsync(fd);
    },
  };
}

/** Larger than any Linux pid_max (2^22): never a live process. */
const DEAD_PID = 4_194_305;

describe('cursor validation walks records', () => {
  it('refuses a cursor inside a record even when the payload embeds a well-formed record', async () => {
    const journal = track(await Journal.open({ dir: tempDir(), preallocateBytes: 0 }));
    // a payload that carries a record of another log (replication, export, ...)
    const outer = (await journal.append(encodeRecord(Buffer.from('not an event of this log')))).offset;
    await journal.append(Buffer.from('next'));
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    const inside = outer + 40; // the start of the outer payload: not a record boundary
    expect(journal.read(inside)).toBeDefined(); // what fooled the old check
    let err: unknown;
    try {
      registry.register('c', { startFrom: inside });
    } catch (e) {
      err = e;
    }
    const delivered: string[] = [];
    if (err === undefined) {
      await runConsumer(registry, 'c', { handler: (r) => void delivered.push(Buffer.from(r.payload).toString()), stopAtHead: true });
    }
    expect(err, `accepted cursor ${inside}; the runner then delivered ${JSON.stringify(delivered)}`).toMatchObject({ code: 'CONSUMER_INVALID_CURSOR' });
    expect(registry.has('c')).toBe(false);
  });

  it('refuses such a cursor on commit and reset too, also when walking from a boundary established by an earlier commit', async () => {
    const journal = track(await Journal.open({ dir: tempDir(), preallocateBytes: 0 }));
    await journal.append(Buffer.from('first'));
    const outer = (await journal.append(encodeRecord(Buffer.from('embedded')))).offset;
    const after = (await journal.append(Buffer.from('after'))).offset;
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('c');
    registry.commit('c', outer); // a boundary this registry now knows
    expect(isConsumerError(thrown(() => registry.commit('c', outer + 40)), ConsumerErrorCodes.InvalidCursor)).toBe(true);
    expect(isConsumerError(thrown(() => registry.reset('c', outer + 40)), ConsumerErrorCodes.InvalidCursor)).toBe(true);
    expect(registry.get('c').cursor).toBe(outer);
    expect(registry.commit('c', after).cursor).toBe(after);
  });

});

describe('runner', () => {
  it('turns a cursor commit that fails on the runner timer into a failed run, never an exception thrown from the timer', async () => {
    const dir = tempDir();
    const journal = track(await Journal.open({ dir, preallocateBytes: 0 }));
    await journal.appendBatch([Buffer.from('1'), Buffer.from('2'), Buffer.from('3')]);
    let failCursorSync = false;
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, io: failingFsync(() => failCursorSync), autoCleanup: false });
    registry.register('c');

    const thrownInTimers: unknown[] = [];
    const realSetInterval = globalThis.setInterval;
    globalThis.setInterval = ((fn: () => void, ms?: number) =>
      realSetInterval(() => {
        try {
          fn();
        } catch (e) {
          thrownInTimers.push(e); // without this wrapper: an uncaught exception, the process dies
        }
      }, ms)) as typeof setInterval;
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const handled: string[] = [];
    let result: Awaited<ReturnType<typeof runConsumer>>;
    try {
      const running = runConsumer(registry, 'c', {
        commitEveryMs: 20,
        handler: async (r) => {
          const text = Buffer.from(r.payload).toString();
          handled.push(text);
          if (text === '2') {
            failCursorSync = true; // the cursor directory's disk fails while record 2 is handled
            await blocked;
          }
        },
        stopAtHead: true,
      });
      await new Promise((r) => setTimeout(r, 200)); // the commit timer fires a few times
      failCursorSync = false;
      release();
      result = await running;
    } finally {
      globalThis.setInterval = realSetInterval;
    }
    expect(thrownInTimers.map(String)).toEqual([]);
    expect(result.state).toBe('failed');
    expect(isConsumerError(result.error, ConsumerErrorCodes.Io)).toBe(true);
    expect(handled).toEqual(['1', '2']); // the run stopped at its next step
    const [info] = registry.list();
    expect(info).toMatchObject({ state: 'failed', cursor: result.cursor });
    expect(info!.error).toContain('EIO');
  });

});

describe('registration against a moving earliest', () => {
  it('register({startFrom: "earliest"}) on a read-only journal never yields a cursor below the earliest retained offset', async () => {
    const dir = tempDir();
    const writer = track(await Journal.open({ dir, preallocateBytes: 0, maxSegmentBytes: 200 }));
    for (let i = 0; i < 6; i++) await writer.append(Buffer.alloc(100, i));
    const registry = ConsumerRegistry.forJournal(writer, { logger: quiet });
    registry.register('a');
    // the CLI (another process) has the directory open read-only
    const reader = track(await Journal.openForRead({ dir }));
    const cli = ConsumerRegistry.forJournal(reader, { logger: quiet });
    registry.commit('a', writer.head); // cleanup deletes every sealed segment
    expect(writer.earliest).toBeGreaterThan(0);
    const late = cli.register('late', { startFrom: 'earliest' });
    expect(late.cursor).toBe(writer.earliest);
    await writer.append(Buffer.alloc(10));
    expect(cli.register('latest', { startFrom: 'latest' }).cursor).toBe(writer.head);
    expect(cli.list().find((c) => c.name === 'latest')).toMatchObject({ head: writer.head, lagBytes: 0 });
  });

  it('a cleanup racing a registration in another process leaves no cursor below the earliest retained offset', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const writer = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 200 });
    for (let i = 0; i < 6; i++) await writer.append(Buffer.alloc(100, i));
    const warnings: string[] = [];
    const registry = ConsumerRegistry.forJournal(writer, { logger: { warn: (m) => warnings.push(m) }, io: disk });
    registry.register('a');
    const reader = await Journal.openForRead({ dir, io: disk });
    const cli = ConsumerRegistry.forJournal(reader, { logger: quiet, io: disk });
    let late: number | undefined;
    disk.inject = ({ op, path }) => {
      // the CLI registers after the writer read the cursors, before the first unlink
      if (op === 'unlink' && path.endsWith('.wal') && late === undefined) {
        reader.segmentList(); // its view is fresh: every segment is still there
        late = cli.register('late', { startFrom: 'earliest' }).cursor;
      }
      return undefined;
    };
    registry.commit('a', writer.head);
    disk.inject = undefined;
    expect(late).toBe(0);
    const stranded = registry.list().filter((c) => c.cursor < writer.earliest);
    expect(registry.get('late').cursor).toBe(writer.earliest);
    expect(registry.clamped).toEqual([expect.objectContaining({ name: 'late', storedCursor: 0, clampedTo: writer.earliest, reason: 'below-earliest' })]);
    expect(warnings.join('\n')).toContain('consumer "late"');
    await reader.close();
    await writer.close();
    expect(stranded.map((c) => `${c.name}@${c.cursor} < earliest`)).toEqual([]);
  });

  it('a registration whose records a concurrent cleanup deleted starts at the new earliest ("earliest") or is refused and undone (an offset)', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const writer = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 200 });
    for (let i = 0; i < 6; i++) await writer.append(Buffer.alloc(100, i));
    const registry = ConsumerRegistry.forJournal(writer, { logger: quiet, io: disk });
    registry.register('a');
    const reader = await Journal.openForRead({ dir, io: disk });
    const warnings: string[] = [];
    const cli = ConsumerRegistry.forJournal(reader, { logger: { warn: (m) => warnings.push(m) }, io: disk });
    const offsets = reader.readMany(0, 100).map((r) => r.offset);
    // the writer's cleanup runs while the CLI renames its new cursor file into place
    const cleanupDuringRename = (consumer: string, advanceTo: number): void => {
      let fired = false;
      disk.inject = ({ op, path }) => {
        if (!fired && op === 'rename' && path.includes(`/consumers/${consumer}.`)) {
          fired = true;
          registry.commit('a', advanceTo);
        }
        return undefined;
      };
    };

    cleanupDuringRename('late', offsets[3]!);
    const late = cli.register('late', { startFrom: 'earliest' });
    expect(writer.earliest).toBeGreaterThan(0);
    expect(late.cursor).toBe(writer.earliest);
    expect(cli.get('late').cursor).toBe(writer.earliest);
    expect(warnings.join('\n')).toContain('a concurrent cleanup deleted the records');

    registry.delete('late'); // only "a" holds the log now
    const gone = writer.earliest;
    cleanupDuringRename('exact', writer.head);
    const err = thrown(() => cli.register('exact', { startFrom: gone }));
    disk.inject = undefined;
    expect(isConsumerError(err, ConsumerErrorCodes.InvalidCursor), String(err)).toBe(true);
    expect(writer.earliest).toBeGreaterThan(gone);
    expect(cli.has('exact')).toBe(false);
    expect(registry.list().filter((c) => c.cursor < writer.earliest)).toEqual([]);
    await reader.close();
    await writer.close();
  });
});

describe('cursor files and their temp files', () => {
  it('a failing cursor write surfaces as a typed CONSUMER_IO error with the errno error as its cause, and the old cursor stays', async () => {
    const journal = track(await Journal.open({ dir: tempDir(), preallocateBytes: 0 }));
    const off = (await journal.append(Buffer.from('x'))).offset;
    let fail = false;
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, io: failingFsync(() => fail) });
    registry.register('c');
    fail = true;
    let err: unknown;
    try {
      registry.commit('c', off + 41);
    } catch (e) {
      err = e;
    }
    fail = false;
    expect(isConsumerError(err) || isWalError(err), `threw ${String(err)}`).toBe(true);
    expect(err).toMatchObject({ code: 'CONSUMER_IO', errno: 'EIO', cause: { code: 'EIO' } });
    expect(registry.get('c').cursor).toBe(0);
    expect(readdirSync((registry.store as FileCursorStore).dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // the temp file is removed
  });

  it('failing reads, removals and listings are CONSUMER_IO errors; a missing file or directory is still "not there"', () => {
    const dir = tempDir();
    let failOp: string | undefined;
    const fault = (op: string): void => {
      if (failOp === op) throw Object.assign(new Error(`EIO: ${op} (injected)`), { code: 'EIO' });
    };
    const io: FileIO = {
      ...nodeFileIO,
      read: (...a) => (fault('read'), nodeFileIO.read(...a)),
      unlink: (p) => (fault('unlink'), nodeFileIO.unlink(p)),
      readdir: (d) => (fault('readdir'), nodeFileIO.readdir(d)),
      open: (p, f) => (fault('open'), nodeFileIO.open(p, f)),
    };
    const store = new FileCursorStore(dir, io);
    expect(store.names()).toEqual([]);
    expect(store.read('c')).toBeUndefined();
    expect(store.remove('c')).toBe(false);
    store.write({ name: 'c', cursor: 0, committedAt: new Date().toISOString(), state: 'registered' });
    for (const [op, call] of [
      ['read', () => store.read('c')],
      ['open', () => store.read('c')],
      ['unlink', () => store.remove('c')],
      ['readdir', () => store.names()],
      ['open', () => store.write({ name: 'c', cursor: 1, committedAt: '', state: 'registered' })],
    ] as const) {
      failOp = op;
      const err = thrown(call);
      failOp = undefined;
      expect(isConsumerError(err, ConsumerErrorCodes.Io), `${op}: ${String(err)}`).toBe(true);
    }
    expect(store.read('c')!.cursor).toBe(0);
  });

  it('creates a cursor file through its own temp file <name>.cursor.<pid>.<random>.tmp, commits in place after that, and lists only cursor files', () => {
    const dir = tempDir();
    const created: string[] = [];
    const renames: string[] = [];
    const io: FileIO = {
      ...nodeFileIO,
      open: (p, flags) => {
        if (flags === 'w') created.push(p.split('/').pop()!);
        return nodeFileIO.open(p, flags);
      },
      rename: (from, to) => (renames.push(to), nodeFileIO.rename(from, to)),
    };
    const store = new FileCursorStore(dir, io);
    for (let i = 0; i < 3; i++) store.write({ name: 'c.v2', cursor: i, committedAt: new Date().toISOString(), state: 'registered' });
    expect(created).toHaveLength(1);
    expect(renames).toHaveLength(1);
    for (const f of created) expect(f).toMatch(new RegExp(`^c\\.v2\\.cursor\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
    expect(readFileSync(join(store.dir, 'c.v2.cursor'))).toHaveLength(CURSOR_FILE_BYTES);
    // leftovers of crashed commits, old and new naming
    writeFileSync(join(store.dir, `c.v2.${DEAD_PID}.0a1b.tmp`), 'torn');
    writeFileSync(join(store.dir, 'other.cursor.tmp'), 'torn');
    writeFileSync(join(store.dir, `other.${process.pid}.ff.tmp`), 'in flight');
    expect(store.names()).toEqual(['c.v2']);
    expect(store.read('c.v2')!.cursor).toBe(2);
  });

  it('a writer journal removes the temp files of dead processes on its first registry and keeps those of live ones', async () => {
    const journal = track(await Journal.open({ dir: tempDir(), preallocateBytes: 0 }));
    const store = new FileCursorStore(journal.dir);
    store.write({ name: 'c', cursor: 0, committedAt: new Date().toISOString(), state: 'registered' });
    writeFileSync(join(store.dir, `c.${DEAD_PID}.0a1b.tmp`), 'torn');
    writeFileSync(join(store.dir, `c.${process.pid}.ff.tmp`), 'in flight');
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    expect(readdirSync(store.dir).sort()).toEqual([`c.${process.pid}.ff.tmp`, 'c.cursor'].sort());
    expect(registry.list().map((c) => c.name)).toEqual(['c']);
  });
});
