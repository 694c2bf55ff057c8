/**
 * Regression suite for the findings of a review of the journal (F1-F12).
 * Each test states the behaviour it guarantees; most failed on the code as
 * reviewed. The lock across network namespaces (F11) is a documented
 * limitation, not a guarantee (see writerLock.ts), so no test asserts it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  crc32cJs,
  Journal,
  nodeFileIO,
  RECORD_OVERHEAD,
  segmentName,
  type FileIO,
} from '../src/index.js';
import { SimulatedDisk, type DiskOp } from '../src/testing/index.js';
import { snapshotDir, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const WAL_SRC = join(import.meta.dirname, '..', 'src', 'index.ts');

let n = 0;
/** A unique simulated path: the writer lock is an abstract socket named after the path. */
function simDir(): string {
  return `/sim-regressions/${process.pid}-${Date.now()}-${n++}`;
}

function bytes(len: number, seed: number): Uint8Array {
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = (seed * 131 + i * 7 + 1) & 0xff;
  return p;
}

/** Releases the writer lock without syncing anything (as a crash would). */
async function crash(j: Journal, disk: SimulatedDisk): Promise<void> {
  disk.freeze();
  await j.close().catch(() => undefined);
}

function runNode(script: string, args: string[], timeoutMs: number): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('fsync failures (F1, F2)', () => {
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
    const offsets = [await j.append(bytes(10, 1)), await j.append(bytes(20, 2))];
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

describe('rollback after a failed write (F3, F4)', () => {
  it('a rejected batch stays out of the log after a power loss: the rollback truncate is synced', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    const x = await j.append(bytes(20, 1));
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

  it('a read-only reader that saw a rolled-back record rescans the segment and reads the records the writer kept', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const w = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    const r = await Journal.open({ dir, io: disk, readOnly: true });
    await w.append(bytes(20, 1));
    expect(r.readMany(0, 10)).toHaveLength(1);
    const a = bytes(100, 2);
    const b = bytes(1000, 3);
    let writes = 0;
    let seenDuringFailure: number[] = [];
    disk.inject = ({ op }) => {
      if (op !== 'write') return undefined;
      writes++;
      if (writes === 1) return { shortWrite: RECORD_OVERHEAD + a.length + 10 };
      // another process reads between the short write and the rollback
      r.segmentList(); // refreshes a read-only view
      seenDuringFailure = r.readMany(0, 10).map((rec) => rec.payload.length);
      return { error: 'ENOSPC' };
    };
    await expect(w.appendBatch([a, b])).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    disk.inject = undefined;
    // the window that remains: a reader in another process may see a record before its append fails
    expect(seenDuringFailure).toEqual([20, 100]);
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
              w.deleteSegmentsBelow(w.head);
            }
            return fd;
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = await Journal.open({ dir, io, readOnly: true });
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

  it('a read-only reader whose scanned bytes were cut moves its head back instead of reporting a damaged record', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const w = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    const r = await Journal.open({ dir, io: disk, readOnly: true });
    const x = await w.append(bytes(20, 1));
    const afterX = x + RECORD_OVERHEAD + 20;
    let writes = 0;
    disk.inject = ({ op }) => {
      if (op !== 'write') return undefined;
      if (++writes === 1) return { shortWrite: RECORD_OVERHEAD + 100 + 10 };
      r.segmentList();
      return { error: 'ENOSPC' };
    };
    await expect(w.appendBatch([bytes(100, 2), bytes(1000, 3)])).rejects.toMatchObject({ code: 'WAL_WRITE_FAILED' });
    disk.inject = undefined;
    expect(r.head).toBe(afterX + RECORD_OVERHEAD + 100); // it saw the rejected record
    // read at once (no staleness refresh): the file is now shorter than what the view scanned
    expect(r.read(afterX)).toBeUndefined();
    expect(r.head).toBe(afterX);
    expect(r.readMany(0, 10).map((rec) => rec.payload.length)).toEqual([20]);
    await r.close();
    await w.close();
  });
});

describe('segment creation (F5)', () => {
  it('a failed directory sync while creating a segment puts the journal in the failed state, and it reopens after a power loss with every acknowledged record', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 300 });
    const first = await j.append(bytes(100, 1)); // segment 0 is 172 bytes; another 140 would pass 300
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
    const acked = await j.append(bytes(10, 3));
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

describe('readers (F6, F7)', () => {
  it('countRecords with `to` beyond the head throws OffsetOutOfRangeError (it used to loop forever)', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    await j.append(bytes(10, 1));
    await j.close();
    const script = join(tempDir(), 'count.mts');
    writeFileSync(
      script,
      `import { Journal } from ${JSON.stringify(WAL_SRC)};\n` +
        `const j = await Journal.open({ dir: process.argv[2]!, readOnly: true });\n` +
        `try { console.log('count', j.countRecords(0, j.head + 1)); } catch (e) { console.log('threw', (e as { code?: string }).code); }\n` +
        `await j.close();\n`,
    );
    const res = await runNode(script, [dir], 8000);
    expect(res.signal, `child output: ${res.out} ${res.err}`).toBeNull();
    expect(res.out.trim()).toBe('threw WAL_OFFSET_OUT_OF_RANGE');
  });

  it('countRecords validates its arguments with typed errors and counts [from, to)', { timeout: 10_000 }, async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 200, preallocateBytes: 0 });
    const offsets: number[] = [];
    for (let i = 0; i < 5; i++) offsets.push(await j.append(bytes(60, i)));
    expect(j.segmentList().length).toBeGreaterThan(1);
    expect(j.countRecords(0)).toBe(5);
    expect(j.countRecords(offsets[1]!, offsets[4]!)).toBe(3);
    expect(j.countRecords(j.head, j.head)).toBe(0);
    expect(thrownBy(() => j.countRecords(offsets[2]!, offsets[1]!))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrownBy(() => j.countRecords(0.5, 10))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrownBy(() => j.countRecords(0, Number.NaN))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrownBy(() => j.countRecords(-1, 10))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrownBy(() => j.countRecords(0, 2 ** 53))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrownBy(() => j.countRecords(0, j.head + 1))).toMatchObject({ code: 'WAL_OFFSET_OUT_OF_RANGE' });
    expect(thrownBy(() => j.countRecords(0, offsets[1]! + 1))).toMatchObject({ code: 'WAL_NOT_RECORD_BOUNDARY' });
    expect(thrownBy(() => j.countRecords(1, j.head))).toMatchObject({ code: 'WAL_NOT_RECORD_BOUNDARY' });
    j.deleteSegmentsBelow(offsets[4]!);
    expect(j.earliest).toBeGreaterThan(0);
    expect(thrownBy(() => j.countRecords(0))).toMatchObject({ code: 'WAL_OFFSET_OUT_OF_RANGE' });
    await j.close();
  });

  it('a read-only journal refuses a segment with unknown header flags with BadSegmentHeaderError', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, preallocateBytes: 0 });
    await j.append(bytes(10, 1));
    await j.close();
    const path = join(dir, segmentName(0));
    const file = readFileSync(path);
    file.writeUInt16LE(1, 6); // flags = 1 (unknown)
    file.writeUInt32LE(crc32cJs(file.subarray(0, 28)), 28); // a well-formed header otherwise
    writeFileSync(path, file);
    await expect(Journal.open({ dir })).rejects.toMatchObject({ code: 'WAL_QUARANTINE' });
    await expect(Journal.open({ dir, readOnly: true })).rejects.toMatchObject({ code: 'WAL_BAD_SEGMENT_HEADER' });
  });

  it('a read-only journal refuses a bad header of a segment that appears after it opened', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir, preallocateBytes: 0, maxSegmentBytes: 200 });
    await w.append(bytes(100, 1));
    const r = await Journal.open({ dir, readOnly: true });
    const second = await w.append(bytes(100, 2)); // rotates
    await w.close();
    const path = join(dir, segmentName(second));
    const file = readFileSync(path);
    file[0] = 0x58; // bad magic
    writeFileSync(path, file);
    expect(thrownBy(() => r.read(second))).toMatchObject({ code: 'WAL_BAD_SEGMENT_HEADER' });
    await r.close();
  });

  it('a read-only journal does not take a segment being created (shorter than its header) for a bad one', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir, preallocateBytes: 0 });
    const x = await w.append(bytes(10, 1));
    await w.close();
    const head = x + RECORD_OVERHEAD + 10;
    writeFileSync(join(dir, segmentName(head)), new Uint8Array(0));
    const r = await Journal.open({ dir, readOnly: true });
    expect(r.head).toBe(head);
    expect(r.read(x)?.payload).toEqual(bytes(10, 1));
    expect(r.segmentList()).toHaveLength(1);
    await r.close();
  });
});

describe('directory durability and typed errors (F8, F9, F10)', () => {
  it('opening a journal in new nested directories creates them one level at a time and syncs the parent of each', async () => {
    const root = tempDir();
    const calls: string[] = [];
    const io: FileIO = {
      ...nodeFileIO,
      mkdir: (d) => (calls.push(`mkdir ${d}`), nodeFileIO.mkdir(d)),
      syncDir: (d) => (calls.push(`sync ${d}`), nodeFileIO.syncDir(d)),
    };
    const a = join(root, 'a');
    const b = join(a, 'b');
    const dir = join(b, 'journal');
    const j = await Journal.open({ dir, io });
    await j.close();
    expect(calls.slice(0, 6)).toEqual([`mkdir ${a}`, `sync ${root}`, `mkdir ${b}`, `sync ${a}`, `mkdir ${dir}`, `sync ${b}`]);
  });

  it('deleteSegmentsBelow throws a typed error when the directory sync fails, and its list matches the directory', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 200 });
    for (let i = 0; i < 4; i++) await j.append(bytes(100, i));
    disk.inject = ({ op }) => (op === 'syncDir' ? { error: 'EIO' } : undefined);
    const err = thrownBy(() => j.deleteSegmentsBelow(j.head));
    disk.inject = undefined;
    expect(err).toMatchObject({ code: 'WAL_IO' });
    const onDisk = disk.readdir(dir).filter((name) => name.endsWith('.wal')).sort();
    expect(j.segmentList().map((s) => s.name)).toEqual(onDisk);
    await j.close();
  });

  it('deleteSegmentsBelow drops a segment from its list only once the file is deleted: a failed unlink leaves both in agreement and a retry finishes', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 200 });
    for (let i = 0; i < 4; i++) await j.append(bytes(100, i));
    const names = j.segmentList().map((s) => s.name);
    expect(names).toHaveLength(4);
    disk.inject = ({ op, path }) => (op === 'unlink' && path.endsWith(names[1]!) ? { error: 'EIO' } : undefined);
    expect(thrownBy(() => j.deleteSegmentsBelow(j.head))).toMatchObject({ code: 'WAL_IO' });
    disk.inject = undefined;
    const list = (): string[] => j.segmentList().map((s) => s.name);
    expect(list()).toEqual(names.slice(1));
    expect(disk.readdir(dir).filter((name) => name.endsWith('.wal')).sort()).toEqual(names.slice(1));
    expect(j.deleteSegmentsBelow(j.head)).toEqual(names.slice(1, 3));
    expect(list()).toEqual(names.slice(3));
    await j.close();
  });

  it('a failure writing the LOCK file throws a typed error and releases the lock', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    let armed = true;
    disk.inject = ({ op, path }) => (op === 'open' && path.endsWith('LOCK') && armed ? ((armed = false), { error: 'ENOSPC' }) : undefined);
    await expect(Journal.open({ dir, io: disk })).rejects.toMatchObject({ code: 'WAL_IO' });
    disk.inject = undefined;
    const second = await Journal.open({ dir, io: disk }).catch((e: unknown) => e);
    expect(second, String(second)).toBeInstanceOf(Journal);
    if (second instanceof Journal) await second.close();
  });
});

describe('maxPayloadBytes lowered on reopen (F12)', () => {
  it('a writer reopened with a smaller maxPayloadBytes refuses with WAL_MAX_PAYLOAD_TOO_SMALL and changes nothing on disk', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    const big = await j.append(bytes(5000, 1));
    const small = await j.append(bytes(10, 2));
    await j.close();
    const before = snapshotDir(dir);
    const err = await Journal.open({ dir, maxPayloadBytes: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL', offset: big, payloadLength: 5000, limit: 1000 });
    expect(String((err as Error).message)).toMatch(/reopen with maxPayloadBytes of at least 5000/);
    expect(snapshotDir(dir)).toEqual(before);
    // the same refusal with repair: valid records are never quarantined
    await expect(Journal.open({ dir, maxPayloadBytes: 1000, repair: true })).rejects.toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL' });
    expect(snapshotDir(dir)).toEqual(before);
    const j2 = await Journal.open({ dir, maxPayloadBytes: 5000 });
    expect(j2.recovery?.cuts).toEqual([]);
    expect(j2.read(small)?.payload).toEqual(bytes(10, 2));
    await j2.close();
  });

  it('a valid record over the limit in a sealed segment is refused the same way, not reported as damage', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 6000, preallocateBytes: 0 });
    const big = await j.append(bytes(5000, 1));
    await j.append(bytes(3000, 2)); // rotates: the big record is sealed
    await j.close();
    const before = snapshotDir(dir);
    await expect(Journal.open({ dir, maxPayloadBytes: 4000 })).rejects.toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL', offset: big });
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('a read-only journal with a smaller maxPayloadBytes refuses too, instead of stopping its head short', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    await j.append(bytes(10, 1));
    await j.append(bytes(5000, 2));
    await j.close();
    await expect(Journal.open({ dir, readOnly: true, maxPayloadBytes: 1000 })).rejects.toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL' });
  });

  it('a garbage length over the limit (the record does not verify) is still cut as length-over-limit', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, preallocateBytes: 0 });
    const x = await j.append(bytes(10, 1));
    const y = await j.append(bytes(2000, 2));
    await j.close();
    const path = join(dir, segmentName(0));
    const file = readFileSync(path);
    file.writeUInt32LE(0x7fffffff, 32 + y - x); // the length field of the second record
    writeFileSync(path, file);
    const j2 = await Journal.open({ dir });
    expect(j2.recovery?.cuts).toMatchObject([{ offset: y, reason: 'length-over-limit' }]);
    expect(j2.head).toBe(y);
    await j2.close();
  });
});
