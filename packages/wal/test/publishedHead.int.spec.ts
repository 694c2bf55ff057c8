import { describe, expect, it } from 'vitest';
import { Journal } from '../src/index.js';
import { PUBLISHED_HEAD_FILE, RECORD_OVERHEAD, readPublishedHead } from '../src/internals.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { GatedDisk, settle } from './gatedDisk.js';
import { simDir } from './rng.js';

/**
 * PUBLISHED_HEAD: readers in other processes stop where the writer's own
 * readers stop, at the end of the records whose append resolved. (A
 * read-only Journal on the same SimulatedDisk reads the files exactly as
 * another process would: it shares nothing with the writer but the disk.)
 */
describe('published head', () => {
  it('a reader in another process does not see a written batch until its sync is done and it is published', async () => {
    const g = new GatedDisk();
    const dir = simDir();
    const w = await Journal.open({ dir, io: g.io, groupCommit: true });
    const first = (await w.append(Buffer.from('first'))).offset;
    const r = await Journal.openForRead({ dir, io: g.disk });
    expect(r.head).toBe(w.head);

    g.gate = true;
    const pending = w.append(Buffer.from('second, still syncing'));
    await settle();
    expect(g.held).toHaveLength(1); // written, its sync running
    expect(g.disk.readFile(`${dir}/0000000000000000.wal`)!.length).toBeGreaterThan(0);
    r.segmentList(); // refresh
    expect(r.head).toBe(first + RECORD_OVERHEAD + 5);
    expect(r.readMany(0, 10).map((x) => Buffer.from(x.payload).toString())).toEqual(['first']);

    g.held[0]!.release();
    const second = (await pending).offset;
    r.segmentList();
    expect(r.head).toBe(w.head);
    expect(Buffer.from(r.read(second)!.payload).toString()).toBe('second, still syncing');
    g.gate = false;
    await r.close();
    await w.close();
  });

  it('is written at open (after recovery), on every synced publish and at close; unsynced heads follow within an event-loop turn', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const created: string[] = [];
    disk.inject = ({ op, path }) => {
      if (path.includes(PUBLISHED_HEAD_FILE)) created.push(`${op} ${path.slice(dir.length + 1)}`);
      return undefined;
    };
    const w = await Journal.open({ dir, io: disk });
    disk.inject = undefined;
    // created whole under another name, then renamed: a reader never finds it empty
    expect(created.slice(0, 3)).toEqual([`open ${PUBLISHED_HEAD_FILE}`, `open ${PUBLISHED_HEAD_FILE}.new`, `write ${PUBLISHED_HEAD_FILE}.new`]);
    expect(created[3]).toMatch(/^rename /);
    expect(readPublishedHead(disk, dir)).toBe(0);
    const a = (await w.append(Buffer.from('synced'))).offset;
    expect(readPublishedHead(disk, dir)).toBe(a + RECORD_OVERHEAD + 6);
    const b = (await w.append(Buffer.from('unsynced'), { durability: 'none' })).offset;
    await new Promise((r) => setImmediate(r));
    expect(readPublishedHead(disk, dir)).toBe(b + RECORD_OVERHEAD + 8);
    await w.append(Buffer.from('at close'), { durability: 'none' });
    await w.close();
    expect(readPublishedHead(disk, dir)).toBe(w.head);

    // a crash leaves it behind a complete but unacknowledged record: readers
    // stop before it until a writer's recovery adopts the record
    const w2 = await Journal.open({ dir, io: disk, preallocateBytes: 0 });
    const before = w2.head;
    const fd = disk.open(`${dir}/0000000000000000.wal`, 'r+');
    const extra = new Uint8Array(RECORD_OVERHEAD + 3);
    const { encodeRecordInto } = await import('../src/internals.js');
    encodeRecordInto(Buffer.from('odd'), extra, 0);
    disk.write(fd, extra, 0, extra.length, disk.size(fd));
    disk.close(fd);
    const r = await Journal.openForRead({ dir, io: disk });
    expect(r.head).toBe(before);
    await r.close();
    disk.freeze(); // the writer dies, then the power: the unsynced record is gone too
    await w2.close().catch(() => undefined);
    disk.powerLoss({ keepPrefix: false });
    const w3 = await Journal.open({ dir, io: disk });
    expect(readPublishedHead(disk, dir)).toBe(w3.head);
    await w3.close();
  });

  it('a damaged file is ignored: a reader keeps the last valid head, or holds back when it never read one', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const w = await Journal.open({ dir, io: disk, durability: 'none' });
    await w.append(Buffer.from('one'));
    await w.sync();
    await new Promise((r) => setImmediate(r));
    const r = await Journal.openForRead({ dir, io: disk });
    const valid = r.head;
    expect(valid).toBe(w.head);

    const damage = (): void => {
      const fd = disk.open(`${dir}/${PUBLISHED_HEAD_FILE}`, 'r+');
      disk.write(fd, new Uint8Array([0xff, 0xff]), 0, 2, 0); // the CRC no longer matches
      disk.close(fd);
    };
    await w.append(Buffer.from('two'), { durability: 'none' });
    await new Promise((r) => setImmediate(r));
    damage();
    r.segmentList();
    expect(r.head).toBe(valid); // the last valid value, not the damaged one, not the scan

    const fresh = await Journal.openForRead({ dir, io: disk });
    expect(fresh.head).toBe(0); // never read a valid one: it shows nothing rather than guess
    expect(fresh.readMany(0, 10)).toEqual([]);
    expect(readPublishedHead(disk, dir)).toBe('damaged');
    await r.close();
    await w.close(); // rewrites it
    expect(readPublishedHead(disk, dir)).toBe(w.head);
    fresh.segmentList();
    expect(fresh.head).toBe(w.head);
    await fresh.close();
  });

  it('a writer that cannot create the file does not open (readers would go by the scan alone), and nothing of it is left', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    disk.inject = ({ op, path }) => (op === 'write' && path.endsWith(`${PUBLISHED_HEAD_FILE}.new`) ? { error: 'EIO' } : undefined);
    await expect(Journal.open({ dir, io: disk })).rejects.toMatchObject({ code: 'WAL_IO' });
    disk.inject = undefined;
    expect(readPublishedHead(disk, dir)).toBeUndefined();
    const w = await Journal.open({ dir, io: disk });
    expect(readPublishedHead(disk, dir)).toBe(0);
    await w.close();
  });
});
