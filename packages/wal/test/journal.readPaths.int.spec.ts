/** The journal's read paths at their edges: readers, directory durability and typed errors, maxPayloadBytes lowered on reopen (shared setup: journalEdges.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, nodeFileIO, type FileIO } from '../src/index.js';
import { crc32cJs, encodeRecord, encodeSegmentHeader, RECORD_OVERHEAD, segmentName } from '../src/internals.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { snapshotDir, tempDir, thrown } from './helpers.js';
import { bytes, runNode, simDir, WAL_SRC } from './journalEdges.js';

describe('readers', () => {
  it('countRecords with `to` beyond the head throws OffsetOutOfRangeError (it used to loop forever)', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    await j.append(bytes(10, 1));
    await j.close();
    const script = join(tempDir(), 'count.mts');
    writeFileSync(
      script,
      `import { Journal } from ${JSON.stringify(WAL_SRC)};\n` +
        `const j = await Journal.openForRead({ dir: process.argv[2]! });\n` +
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
    for (let i = 0; i < 5; i++) offsets.push((await j.append(bytes(60, i))).offset);
    expect(j.segmentList().length).toBeGreaterThan(1);
    expect(j.countRecords(0)).toBe(5);
    expect(j.countRecords(offsets[1]!, offsets[4]!)).toBe(3);
    expect(j.countRecords(j.head, j.head)).toBe(0);
    expect(thrown(() => j.countRecords(offsets[2]!, offsets[1]!))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrown(() => j.countRecords(0.5, 10))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrown(() => j.countRecords(0, Number.NaN))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrown(() => j.countRecords(-1, 10))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrown(() => j.countRecords(0, 2 ** 53))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    expect(thrown(() => j.countRecords(0, j.head + 1))).toMatchObject({ code: 'WAL_OFFSET_OUT_OF_RANGE' });
    expect(thrown(() => j.countRecords(0, offsets[1]! + 1))).toMatchObject({ code: 'WAL_NOT_RECORD_BOUNDARY' });
    expect(thrown(() => j.countRecords(1, j.head))).toMatchObject({ code: 'WAL_NOT_RECORD_BOUNDARY' });
    j.deleteBelow(offsets[4]!);
    expect(j.earliest).toBeGreaterThan(0);
    expect(thrown(() => j.countRecords(0))).toMatchObject({ code: 'WAL_OFFSET_OUT_OF_RANGE' });
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
    await expect(Journal.openForRead({ dir })).rejects.toMatchObject({ code: 'WAL_BAD_SEGMENT_HEADER' });
  });

  it('a read-only journal refuses a bad header of a segment that appears after it opened', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir, preallocateBytes: 0, maxSegmentBytes: 200 });
    await w.append(bytes(100, 1));
    const r = await Journal.openForRead({ dir });
    const second = (await w.append(bytes(100, 2))).offset; // rotates
    await w.close();
    const path = join(dir, segmentName(second));
    const file = readFileSync(path);
    file[0] = 0x58; // bad magic
    writeFileSync(path, file);
    expect(thrown(() => r.read(second))).toMatchObject({ code: 'WAL_BAD_SEGMENT_HEADER' });
    await r.close();
  });

  it('a read-only journal does not take a segment being created (shorter than its header) for a bad one', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir, preallocateBytes: 0 });
    const x = (await w.append(bytes(10, 1))).offset;
    await w.close();
    const head = x + RECORD_OVERHEAD + 10;
    writeFileSync(join(dir, segmentName(head)), new Uint8Array(0));
    const r = await Journal.openForRead({ dir });
    expect(r.head).toBe(head);
    expect(r.read(x)?.payload).toEqual(bytes(10, 1));
    expect(r.segmentList()).toHaveLength(1);
    await r.close();
  });

  it('a reader that finds a new segment empty, and full a moment later, waits for it (torture finding: WAL_BAD_SEGMENT_HEADER)', async () => {
    // The writer creates a segment (an empty file), then writes its header
    // and records. A reader that read the short header and then measured the
    // file after the writer went on took the records for a damaged header.
    const dir = tempDir();
    const j = await Journal.open({ dir, preallocateBytes: 0 });
    await j.append(bytes(50, 1));
    await j.close();
    const next = join(dir, segmentName(RECORD_OVERHEAD + 50));
    const paths = new Map<number, string>();
    let raced = false;
    const io: FileIO = {
      ...nodeFileIO,
      open: (p, f) => {
        const fd = nodeFileIO.open(p, f);
        paths.set(fd, p);
        return fd;
      },
      read: (fd, buf, off, len, pos) => {
        const n = nodeFileIO.read(fd, buf, off, len, pos);
        if (!raced && paths.get(fd) === next && pos === 0 && n === 0) {
          raced = true; // the header read came back empty: the writer now writes the header and a record
          writeFileSync(next, Buffer.concat([encodeSegmentHeader(RECORD_OVERHEAD + 50), encodeRecord(bytes(30, 2))]));
        }
        return n;
      },
    };
    const reader = await Journal.openForRead({ dir, io });
    writeFileSync(next, Buffer.alloc(0));
    expect(reader.segmentList()).toHaveLength(1); // not yet a segment: no error
    expect(raced).toBe(true);
    expect(reader.segmentList()).toHaveLength(2); // the next look finds it whole
    await reader.close();
  });
});

describe('directory durability and typed errors', () => {
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
    // the existing root's own entry first (a crashed run may have made it)
    expect(calls.slice(0, 7)).toEqual([`sync ${dirname(root)}`, `mkdir ${a}`, `sync ${root}`, `mkdir ${b}`, `sync ${a}`, `mkdir ${dir}`, `sync ${b}`]);
  });

  it('deleteBelow throws a typed error when the directory sync fails, and its list matches the directory', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 200 });
    for (let i = 0; i < 4; i++) await j.append(bytes(100, i));
    disk.inject = ({ op }) => (op === 'syncDir' ? { error: 'EIO' } : undefined);
    const err = thrown(() => j.deleteBelow(j.head));
    disk.inject = undefined;
    expect(err).toMatchObject({ code: 'WAL_IO' });
    const onDisk = disk.readdir(dir).filter((name) => name.endsWith('.wal')).sort();
    expect(j.segmentList().map((s) => s.name)).toEqual(onDisk);
    await j.close();
  });

  it('deleteBelow drops a segment from its list only once the file is deleted: a failed unlink leaves both in agreement and a retry finishes', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, preallocateBytes: 0, maxSegmentBytes: 200 });
    for (let i = 0; i < 4; i++) await j.append(bytes(100, i));
    const names = j.segmentList().map((s) => s.name);
    expect(names).toHaveLength(4);
    disk.inject = ({ op, path }) => (op === 'unlink' && path.endsWith(names[1]!) ? { error: 'EIO' } : undefined);
    expect(thrown(() => j.deleteBelow(j.head))).toMatchObject({ code: 'WAL_IO' });
    disk.inject = undefined;
    const list = (): string[] => j.segmentList().map((s) => s.name);
    expect(list()).toEqual(names.slice(1));
    expect(disk.readdir(dir).filter((name) => name.endsWith('.wal')).sort()).toEqual(names.slice(1));
    expect(j.deleteBelow(j.head)).toEqual(names.slice(1, 3));
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

describe('maxPayloadBytes lowered on reopen', () => {
  it('a writer reopened with a smaller maxPayloadBytes refuses with WAL_MAX_PAYLOAD_TOO_SMALL and changes nothing on disk', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    const big = (await j.append(bytes(5000, 1))).offset;
    const small = (await j.append(bytes(10, 2))).offset;
    await j.close();
    const before = snapshotDir(dir);
    const err = await Journal.open({ dir, maxPayloadBytes: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL', offset: big, payloadLength: 5000, limit: 1000 });
    expect(String((err as Error).message)).toMatch(/reopen with maxPayloadBytes \(CLI: --max-payload-bytes\) of at least 5000/);
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
    const big = (await j.append(bytes(5000, 1))).offset;
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
    await expect(Journal.openForRead({ dir, maxPayloadBytes: 1000 })).rejects.toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL' });
  });

  it('a garbage length over the limit (the record does not verify) is still cut as length-over-limit', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, preallocateBytes: 0 });
    const x = (await j.append(bytes(10, 1))).offset;
    const y = (await j.append(bytes(2000, 2))).offset;
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
