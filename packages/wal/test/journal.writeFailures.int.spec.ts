/** The journal's writes when the disk fails: fsync failures, rollback after a failed write, segment creation (shared setup: journalEdges.ts). */
import { describe, expect, it } from 'vitest';
import { Journal } from '../src/index.js';
import { PUBLISHED_HEAD_FILE, RECORD_OVERHEAD, segmentName } from '../src/internals.js';
import { SimulatedDisk, type DiskOp } from '../src/testing/index.js';
import { bytes, crash, simDir } from './journalEdges.js';

describe('fsync failures', () => {
  it('a failed fsync in sync() puts the journal in the failed state: sync, append and later syncs reject with WAL_FAILED_STATE', async () => {
    const disk = new SimulatedDisk();
    const j = await Journal.open({ dir: simDir(), io: disk, durability: 'none', preallocateBytes: 0 });
    await j.append(bytes(10, 1));
    let armed = true;
    disk.inject = ({ op }) => (op === 'fsync' && armed ? ((armed = false), { error: 'EIO' }) : undefined);
    const err = await j.sync().catch((e: unknown) => e);
    disk.inject = undefined;
    expect(err).toMatchObject({ code: 'WAL_FAILED_STATE' });
    // never retried: the fault is gone, yet the journal refuses until reopened
    await expect(j.append(bytes(10, 2))).rejects.toMatchObject({ code: 'WAL_FAILED_STATE' });
    await expect(j.sync()).rejects.toMatchObject({ code: 'WAL_FAILED_STATE' });
    await j.close().catch(() => undefined);
  });

  it('a failed sync() also rejects the appends queued behind it with WAL_FAILED_STATE', async () => {
    const disk = new SimulatedDisk();
    const j = await Journal.open({ dir: simDir(), io: disk, durability: 'none', preallocateBytes: 0 });
    await j.append(bytes(10, 1));
    disk.inject = ({ op }) => (op === 'fsync' ? { error: 'EIO' } : undefined);
    const s = j.sync();
    const a = j.append(bytes(10, 2));
    const [sr, ar] = await Promise.allSettled([s, a]);
    disk.inject = undefined;
    expect(sr).toMatchObject({ status: 'rejected', reason: { code: 'WAL_FAILED_STATE' } });
    expect(ar).toMatchObject({ status: 'rejected', reason: { code: 'WAL_FAILED_STATE' } });
    await j.close().catch(() => undefined);
  });

  it('sync() makes the appends resolved before it durable (durability none)', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, durability: 'none', preallocateBytes: 0 });
    const offsets = [(await j.append(bytes(10, 1))).offset, (await j.append(bytes(20, 2))).offset];
    await j.sync();
    await crash(j, disk);
    disk.powerLoss();
    const j2 = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    expect(offsets.map((o) => j2.read(o)?.payload.length)).toEqual([10, 20]);
    await j2.close();
  });

  it('sync() racing close() resolves: it runs before close() seals the segment', async () => {
    const disk = new SimulatedDisk();
    const j = await Journal.open({ dir: simDir(), io: disk, durability: 'none', preallocateBytes: 0 });
    await j.append(bytes(10, 1));
    const [s, c] = await Promise.allSettled([j.sync(), j.close()]);
    expect(c.status).toBe('fulfilled');
    expect(s.status, s.status === 'rejected' ? String((s as PromiseRejectedResult).reason) : '').toBe('fulfilled');
  });

  it('sync() racing a rotation resolves: the rotation waits for its fsync instead of closing the descriptor under it', async () => {
    const disk = new SimulatedDisk();
    const j = await Journal.open({ dir: simDir(), io: disk, durability: 'none', preallocateBytes: 0, maxSegmentBytes: 256 });
    await j.append(bytes(100, 1));
    const s = j.sync();
    // let sync() start its fsync, then append a record that needs a new segment
    for (let i = 0; i < 10; i++) await Promise.resolve();
    const a = j.append(bytes(100, 2));
    const [sr, ar] = await Promise.allSettled([s, a]);
    expect(ar.status).toBe('fulfilled');
    expect(sr.status, sr.status === 'rejected' ? String((sr as PromiseRejectedResult).reason) : '').toBe('fulfilled');
    expect(j.segmentList()).toHaveLength(2);
    await j.close();
  });
});

describe('rollback after a failed write', () => {
  it('a rejected batch stays out of the log after a power loss: the rollback truncate is synced', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    const x = (await j.append(bytes(20, 1))).offset;
    const afterX = x + RECORD_OVERHEAD + 20;
    const a = bytes(100, 2);
    const b = bytes(1000, 3);
    const recA = RECORD_OVERHEAD + a.length;
    let writes = 0;
    disk.inject = ({ op }) => {
      if (op !== 'write') return undefined;
      writes++;
      // A whole and part of B reach the file, then the disk is full
      return writes === 1 ? { shortWrite: 2 * recA + 2 } : { error: 'ENOSPC' };
    };
    await expect(j.appendBatch([a, b])).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    disk.inject = undefined;
    expect(j.head).toBe(afterX);
    await crash(j, disk);
    disk.powerLoss({ keepPrefix: true });
    const j2 = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    expect(j2.head).toBe(afterX);
    expect(j2.read(afterX)).toBeUndefined();
    await j2.close();
  });

  it('a rollback whose sync fails puts the journal in the failed state', async () => {
    const disk = new SimulatedDisk();
    const j = await Journal.open({ dir: simDir(), io: disk, preallocateBytes: 0 });
    await j.append(bytes(20, 1));
    disk.inject = ({ op }) => (op === 'write' ? { error: 'ENOSPC' } : op === 'fsync' ? { error: 'EIO' } : undefined);
    await expect(j.append(bytes(100, 2))).rejects.toMatchObject({ code: 'WAL_FAILED_STATE' });
    disk.inject = undefined;
    await expect(j.append(bytes(10, 3))).rejects.toMatchObject({ code: 'WAL_FAILED_STATE' });
    await j.close().catch(() => undefined);
  });

  // Without PUBLISHED_HEAD (a writer from before it existed) a reader in
  // another process can see a record before its append fails, and must then
  // rescan; with it, the reader never sees the record at all.
  it.each([
    { published: true, seen: [20] },
    { published: false, seen: [20, 100] },
  ])('a read-only reader and a rolled-back record (published head: $published): it never delivers it, and reads the records the writer kept', async ({ published, seen }) => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const w = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    if (!published) disk.unlink(`${dir}/${PUBLISHED_HEAD_FILE}`);
    const r = await Journal.openForRead({ dir, io: disk });
    await w.append(bytes(20, 1));
    expect(r.readMany(0, 10)).toHaveLength(1);
    const a = bytes(100, 2);
    const b = bytes(1000, 3);
    let writes = 0;
    let seenDuringFailure: number[] = [];
    disk.inject = ({ op, path }) => {
      if (op !== 'write' || !path.endsWith('.wal')) return undefined;
      writes++;
      if (writes === 1) return { shortWrite: RECORD_OVERHEAD + a.length + 10 };
      // another process reads between the short write and the rollback
      r.segmentList(); // refreshes a read-only view
      seenDuringFailure = r.readMany(0, 10).map((rec) => rec.payload.length);
      return { error: 'ENOSPC' };
    };
    await expect(w.appendBatch([a, b])).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    disk.inject = undefined;
    expect(seenDuringFailure).toEqual(seen);
    await w.append(bytes(300, 4));
    await w.append(bytes(50, 5));
    await new Promise((res) => setTimeout(res, 150)); // past the read-only staleness limit
    let lengths: unknown;
    try {
      lengths = r.readMany(0, 10).map((rec) => rec.payload.length);
    } catch (e) {
      lengths = String(e);
    }
    expect(lengths).toEqual([20, 300, 50]);
    expect(r.head).toBe(w.head);
    await r.close();
    await w.close();
  });

  it('a read-only reader whose newest listed segment is deleted between its header check and its scan lists again instead of failing with WAL_IO', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const w = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 200 });
    for (let i = 0; i < 3; i++) await w.append(bytes(100, i)); // three segments
    let stale: string[] | undefined;
    let vanish: string | undefined;
    const io = new Proxy(disk, {
      get(target, prop) {
        if (prop === 'readdir') {
          return (d: string) => {
            const listing = stale ?? target.readdir(d);
            stale = undefined;
            return listing;
          };
        }
        if (prop === 'open') {
          return (path: string, flags: string) => {
            const fd = target.open(path, flags);
            // the writer's cleanup runs right after the reader checked this segment's header
            if (vanish !== undefined && path.endsWith(vanish)) {
              vanish = undefined;
              w.deleteBelow(w.head);
            }
            return fd;
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = await Journal.openForRead({ dir, io });
    expect(r.readMany(0, 10)).toHaveLength(3);
    await w.append(bytes(100, 7)); // a fourth segment, not yet seen by the reader
    stale = disk.readdir(dir);
    vanish = w.segmentList().at(-1)!.name;
    await w.append(bytes(100, 9)); // a fifth; the fourth is sealed and can be deleted
    await new Promise((res) => setTimeout(res, 150)); // past the read-only staleness limit
    let got: unknown;
    try {
      r.segmentList(); // refreshes the view
      got = r.readMany(r.earliest, 10).map((rec) => Buffer.from(rec.payload).equals(Buffer.from(bytes(100, 9))));
    } catch (e) {
      got = String(e);
    }
    expect(got).toEqual([true]);
    expect(r.head).toBe(w.head);
    await r.close();
    await w.close();
  });

  it.each([true, false])('a read-only reader whose scanned bytes were cut moves its head back instead of reporting a damaged record (published head: %s)', async (published) => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const w = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    if (!published) disk.unlink(`${dir}/${PUBLISHED_HEAD_FILE}`);
    const r = await Journal.openForRead({ dir, io: disk });
    const x = (await w.append(bytes(20, 1))).offset;
    const afterX = x + RECORD_OVERHEAD + 20;
    let writes = 0;
    disk.inject = ({ op, path }) => {
      if (op !== 'write' || !path.endsWith('.wal')) return undefined;
      if (++writes === 1) return { shortWrite: RECORD_OVERHEAD + 100 + 10 };
      r.segmentList();
      return { error: 'ENOSPC' };
    };
    await expect(w.appendBatch([bytes(100, 2), bytes(1000, 3)])).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    disk.inject = undefined;
    // without a published head it saw the rejected record; with one, it stopped before it
    expect(r.head).toBe(published ? afterX : afterX + RECORD_OVERHEAD + 100);
    // read at once (no staleness refresh): the file is now shorter than what the view scanned
    expect(r.read(afterX)).toBeUndefined();
    expect(r.head).toBe(afterX);
    expect(r.readMany(0, 10).map((rec) => rec.payload.length)).toEqual([20]);
    await r.close();
    await w.close();
  });
});

describe('segment creation', () => {
  it('a failed directory sync while creating a segment puts the journal in the failed state, and it reopens after a power loss with every acknowledged record', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 300 });
    const first = (await j.append(bytes(100, 1))).offset; // segment 0 is 172 bytes; another 140 would pass 300
    let armed = true;
    disk.inject = ({ op }) => (op === 'syncDir' && armed ? ((armed = false), { error: 'EIO' }) : undefined);
    await expect(j.append(bytes(100, 2))).rejects.toMatchObject({ code: 'WAL_FAILED_STATE' });
    disk.inject = undefined;
    // a failed sync is never retried: the journal stays failed although the fault is gone
    await expect(j.append(bytes(10, 3))).rejects.toMatchObject({ code: 'WAL_FAILED_STATE' });
    await crash(j, disk);
    disk.powerLoss({ keepPrefix: true });
    const j2 = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 300 }).catch((e: unknown) => e);
    expect(j2, String(j2)).toBeInstanceOf(Journal);
    expect((j2 as Journal).read(first)?.payload).toEqual(bytes(100, 1));
    await (j2 as Journal).close();
  });

  it('a failed header write of a new segment is undone durably (unlink, then directory sync); appends go on in the old segment and survive a power loss', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 300 });
    await j.append(bytes(100, 1));
    const newSegment = segmentName(RECORD_OVERHEAD + 100);
    const ops: Array<[DiskOp, string]> = [];
    disk.inject = ({ op, path }) => {
      ops.push([op, path]);
      return op === 'write' && path.endsWith(newSegment) ? { error: 'ENOSPC' } : undefined;
    };
    await expect(j.append(bytes(100, 2))).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    disk.inject = undefined;
    const unlink = ops.findIndex(([op, path]) => op === 'unlink' && path.endsWith(newSegment));
    expect(unlink).toBeGreaterThanOrEqual(0);
    expect(ops.slice(unlink + 1).some(([op, path]) => op === 'syncDir' && path === dir)).toBe(true);
    // the journal keeps appending to the old segment
    const acked = (await j.append(bytes(10, 3))).offset;
    await crash(j, disk);
    // keeps half of the unsynced directory operations: the creation without its unlink, were it not synced
    disk.powerLoss({ keepPrefix: true });
    const j2 = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 300 });
    expect(j2.recovery?.cuts).toEqual([]);
    expect(j2.segmentList()).toHaveLength(1);
    expect(j2.read(acked)?.payload).toEqual(bytes(10, 3));
    await j2.close();
  });
});
