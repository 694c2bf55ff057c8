import { describe, expect, it } from 'vitest';
import { RunQueue } from '../src/import/runQueue.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('RunQueue', () => {
  it('takes items in order, each as soon as it is given, with at most `limit` waiting', async () => {
    const q = new RunQueue<number>(2, () => undefined);
    const taken: number[] = [];
    let release: (() => void) | undefined;
    const draining = q.drain(async (n) => {
      taken.push(n);
      if (n === 1) await new Promise<void>((r) => (release = r));
    });
    expect(await q.give(0)).toBe(true);
    await tick();
    expect(taken).toEqual([0]); // not held back until more input arrives
    expect(await q.give(1)).toBe(true); // 1 is being taken (and held)
    expect(await q.give(2)).toBe(true); // 1 and 2: at the limit
    let roomFor3 = false;
    const giving3 = q.give(3).then((ok) => (roomFor3 = ok));
    await tick();
    expect(roomFor3).toBe(false); // the reader waits: three would be past the limit
    release!();
    await giving3;
    expect(roomFor3).toBe(true);
    q.end();
    await draining;
    expect(taken).toEqual([0, 1, 2, 3]);
  });

  it("a failed take: onFailure runs, the giver is told to stop, drain rejects with the take's error", async () => {
    let stopped = 0;
    const q = new RunQueue<number>(1, () => stopped++);
    let release: (() => void) | undefined;
    const draining = q.drain(async () => {
      await new Promise<void>((r) => (release = r));
      throw new Error('append failed');
    });
    draining.catch(() => undefined);
    expect(await q.give(0)).toBe(true);
    const giving = q.give(1); // waits for room behind 0
    await tick();
    release!();
    await expect(draining).rejects.toThrow('append failed');
    expect(await giving).toBe(false);
    expect(stopped).toBe(1);
    expect(q.failed).toBe(true);
    expect(await q.give(2)).toBe(false);
  });

  it('abort drops what waits: drain resolves after the item it is taking', async () => {
    const q = new RunQueue<number>(3, () => undefined);
    const taken: number[] = [];
    let release: (() => void) | undefined;
    const draining = q.drain(async (n) => {
      taken.push(n);
      if (n === 0) await new Promise<void>((r) => (release = r));
    });
    await q.give(0);
    await q.give(1);
    await q.give(2);
    await tick();
    q.abort();
    release!();
    await draining;
    expect(taken).toEqual([0]);
  });
});
