import { describe, expect, it } from 'vitest';
import { FailedStateError, Journal, createDirectories } from '../src/index.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { GatedDisk, settle } from './gatedDisk.js';
import { simDir } from './rng.js';

/**
 * Pipelined group commit: a batch is written while the previous one syncs,
 * and its sync runs beside it. These tests hold syncs open through the FileIO
 * seam to pin down what the pipeline promises: publication strictly in
 * order, each batch after its own sync; a failed sync takes every batch not
 * yet published with it; no descriptor is sealed under a running sync.
 */

describe('pipelined group commit', () => {
  it('writes the next batch while a sync runs, and publishes it only after the earlier sync', async () => {
    const g = new GatedDisk();
    const journal = await Journal.open({ dir: simDir(), io: g.io, groupCommit: true });
    g.gate = true;
    const order: string[] = [];
    const first = journal.append(Buffer.from('first')).then((o) => (order.push('first'), o.offset));
    await settle();
    expect(g.held).toHaveLength(1);
    const second = journal.append(Buffer.from('second')).then((o) => (order.push('second'), o.offset));
    await settle();
    // written and syncing beside the first: the pipeline is two deep
    expect(g.held).toHaveLength(2);
    expect(g.maxRunning).toBe(2);
    const third = journal.append(Buffer.from('third')).then((o) => (order.push('third'), o.offset));
    await settle();
    expect(g.held).toHaveLength(2); // no third sync while two run

    // the second sync finishes first: nothing may be published yet
    g.held[1]!.release();
    await settle();
    expect(order).toEqual([]);
    expect(journal.head).toBe(0);
    expect(journal.read(0)).toBeUndefined();

    g.held[0]!.release();
    await settle();
    expect(order).toEqual(['first', 'second']);
    const [o1, o2] = await Promise.all([first, second]);
    expect(o2).toBeGreaterThan(o1);
    expect(journal.head).toBeGreaterThan(o2);

    g.held[2]!.release();
    expect(Buffer.from(journal.read(await third)!.payload).toString()).toBe('third');
    expect(order).toEqual(['first', 'second', 'third']);
    g.gate = false;
    await journal.close();
  });

  it('a failed sync rejects the later batch in flight too, and every later append, until reopen', async () => {
    const g = new GatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: g.io, groupCommit: true });
    const kept = (await journal.append(Buffer.from('kept'))).offset;
    g.gate = true;
    const first = journal.append(Buffer.from('first'));
    await settle();
    const second = journal.append(Buffer.from('second'));
    await settle();
    expect(g.held).toHaveLength(2);
    g.held[1]!.release(); // the later sync succeeds...
    g.held[0]!.release(Object.assign(new Error('EIO: injected'), { code: 'EIO' })); // ...the earlier one fails
    await expect(first).rejects.toBeInstanceOf(FailedStateError);
    await expect(second).rejects.toBeInstanceOf(FailedStateError);
    await expect(journal.append(Buffer.from('later'))).rejects.toBeInstanceOf(FailedStateError);
    expect(journal.head).toBe(kept + 40 + 4);
    g.gate = false;
    await journal.close();

    const reopened = await Journal.open({ dir, io: g.io, groupCommit: true });
    expect(Buffer.from(reopened.read(kept)!.payload).toString()).toBe('kept');
    const next = (await reopened.append(Buffer.from('after reopen'))).offset;
    expect(Buffer.from(reopened.read(next)!.payload).toString()).toBe('after reopen');
    await reopened.close();
  });

  it('callers awaiting each append split into two overlapping batches; rotation never closes a syncing descriptor', async () => {
    const g = new GatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: g.io, groupCommit: true, maxSegmentBytes: 8 * 1024, preallocateBytes: 0 });
    const written = new Map<number, string>();
    await Promise.all(
      Array.from({ length: 64 }, async (_, a) => {
        for (let i = 0; i < 20; i++) {
          const text = `appender ${a} record ${i}`;
          written.set((await journal.append(Buffer.from(text))).offset, text);
        }
      }),
    );
    expect(g.maxRunning).toBe(2);
    expect(g.closedUnderSync).toEqual([]);
    expect(written.size).toBe(64 * 20);
    expect(journal.segmentList().length).toBeGreaterThan(5);
    await journal.close();

    const reopened = await Journal.open({ dir, io: g.io });
    const read = new Map<number, string>();
    for (let r = reopened.read(0); r; r = reopened.read(r.next)) read.set(r.offset, Buffer.from(r.payload).toString());
    expect(read).toEqual(written);
    await reopened.close();
  });

  it('callers awaiting each append settle into two balanced syncs, not a large one and a tiny one', async () => {
    const g = new GatedDisk();
    const journal = await Journal.open({ dir: simDir(), io: g.io, groupCommit: true, preallocateBytes: 0 });
    g.gate = true;
    let resolved = 0;
    let stop = false;
    const appender = async (a: number): Promise<void> => {
      while (!stop) {
        await journal.append(Buffer.from(`appender ${a}`));
        resolved++;
      }
    };
    // two callers first, the other 62 once their batch is syncing: the
    // pipeline starts lopsided (2 and 62 records in flight)
    const loops = [appender(0), appender(1)];
    await settle();
    for (let a = 2; a < 64; a++) loops.push(appender(a));
    await settle();
    expect(g.held).toHaveLength(2);

    // a disk serves syncs one at a time, oldest first
    const perSync: number[] = [];
    for (let served = 0; served < 40; served++) {
      expect(g.held.length).toBeGreaterThan(served);
      const before = resolved;
      g.held[served]!.release();
      await settle();
      perSync.push(resolved - before);
    }
    // the tiny batch waits for the large one and joins the next pair of halves
    expect(perSync.slice(0, 2)).toEqual([2, 62]);
    expect(perSync.slice(2).every((n) => n === 32)).toBe(true);

    stop = true;
    g.gate = false;
    for (const h of g.held) h.release();
    await Promise.all(loops);
    await journal.close();
  });
});

describe('SimulatedDisk.fsyncAsync', () => {
  it('makes durable the writes made before the call, not those made while it runs', async () => {
    const disk = new SimulatedDisk();
    createDirectories(disk, '/sim/fsync-async');
    const fd = disk.open('/sim/fsync-async/f', 'w+');
    disk.syncDir('/sim/fsync-async');
    disk.write(fd, Buffer.from('before'), 0, 6, 0);
    const syncing = disk.fsyncAsync(fd);
    disk.write(fd, Buffer.from('during'), 0, 6, 6);
    await syncing;
    disk.powerLoss();
    expect(Buffer.from(disk.readFile('/sim/fsync-async/f')!).toString()).toBe('before');
  });
});
