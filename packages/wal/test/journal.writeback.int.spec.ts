import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FailedStateError, InvalidArgumentError, Journal } from '../src/index.js';
import { RECORD_OVERHEAD } from '../src/internals.js';
import { syncedPrefixEvery } from '../src/journal/journalWriter.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { GatedDisk, settle } from './gatedDisk.js';
import { payloadOf, tempDir } from './helpers.js';
import { simDir } from './rng.js';

/**
 * Background writeback (durability `none`): every `writebackBytes`, a
 * sync of the active segment starts and nobody waits for it. What it synced
 * survives a power loss; a failed one fails the journal like any failed
 * fsync; no descriptor is closed under it.
 */

const EVERY = 16 * 1024;
const saved = { prefix: syncedPrefixEvery.bytes };

afterEach(() => {
  syncedPrefixEvery.bytes = saved.prefix;
});

describe('background writeback of none appends', () => {
  it('syncs as the appends go, so that a power loss keeps all but the last stretch, and records a synced prefix', async () => {
    syncedPrefixEvery.bytes = EVERY;
    const disk = new SimulatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: disk, durability: 'none', writebackBytes: EVERY });
    const payloads: Uint8Array[] = [];
    let written = 0;
    for (let chunk = 0; chunk < 10; chunk++) {
      for (let i = 0; i < 20; i++) {
        const p = payloadOf(payloads.length, 1024);
        expect((await journal.append(p)).offset).toBe(written);
        payloads.push(p);
        written += RECORD_OVERHEAD + p.length;
      }
      await settle(); // the thread pool gets its turn: a running background sync completes
    }
    disk.freeze(); // the process dies here
    await journal.close().catch(() => undefined);
    disk.powerLoss(); // nothing was synced on the appends' path: only the background syncs kept anything

    const reopened = await Journal.open({ dir, io: disk, durability: 'none' });
    const head = reopened.head;
    // unsynced at most: the bytes counted towards the next background sync, and the last chunk
    expect(head).toBeGreaterThanOrEqual(written - EVERY - 20 * (RECORD_OVERHEAD + 1024));
    expect(reopened.recovery!.lastSegmentPrefixTrusted).toBeGreaterThan(0);
    let n = 0;
    for (let r = reopened.read(0); r; r = reopened.read(r.next), n++) expect(Buffer.from(r.payload).equals(Buffer.from(payloads[n]!))).toBe(true);
    expect(n * (RECORD_OVERHEAD + 1024)).toBe(head);
    await reopened.close();
  });

  it('a failed background sync puts the journal in the failed state; a reopen recovers', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: disk, durability: 'none', writebackBytes: EVERY });
    disk.inject = ({ op }) => (op === 'fsync' ? { error: 'EIO' } : undefined);
    // the failing background sync lands whenever the writer yields to the
    // event loop (it does every few ms: on a loaded machine, inside this
    // loop), so an append of the loop may already be refused, and only so
    let refused: unknown;
    for (let i = 0; i < 20 && refused === undefined; i++) await journal.append(payloadOf(i, 1024)).catch((err: unknown) => (refused = err));
    if (refused !== undefined) expect(refused).toBeInstanceOf(FailedStateError);
    await settle();
    await expect(journal.append(payloadOf(99, 10))).rejects.toBeInstanceOf(FailedStateError);
    expect(disk.faults.EIO).toBeGreaterThan(0);
    await journal.close();

    disk.inject = undefined;
    const reopened = await Journal.open({ dir, io: disk, durability: 'none' });
    const at = (await reopened.append(Buffer.from('after reopen'))).offset;
    expect(Buffer.from(reopened.read(at)!.payload).toString()).toBe('after reopen');
    await reopened.close();
  });

  it('rotation and close wait for a running background sync instead of closing its descriptor', async () => {
    const g = new GatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: g.io, durability: 'none', maxSegmentBytes: 96 * 1024, preallocateBytes: 0, writebackBytes: EVERY });
    g.gate = true;
    const offsets: number[] = [];
    // 40 KiB: one background sync starts and is held
    for (let i = 0; i < 40; i++) offsets.push((await journal.append(payloadOf(i, 1024))).offset);
    await settle();
    expect(g.held).toHaveLength(1);
    // these cross the segment limit: the rotation must wait for the held sync
    const crossing = Array.from({ length: 70 }, (_, i) => journal.append(payloadOf(40 + i, 1024)));
    let crossed = false;
    void Promise.all(crossing).then(() => (crossed = true));
    await settle();
    expect(crossed).toBe(false);
    expect(journal.segmentList()).toHaveLength(1);
    g.gate = false;
    g.held[0]!.release();
    offsets.push(...(await Promise.all(crossing)).map((a) => a.offset));
    expect(journal.segmentList().length).toBeGreaterThan(1);

    // close waits for a background sync still running on the new segment
    await settle(); // the sync the rotated batch started (not held) completes
    g.gate = true;
    for (let i = 0; i < 30; i++) offsets.push((await journal.append(payloadOf(110 + i, 1024))).offset);
    await settle();
    expect(g.held).toHaveLength(2);
    const closing = journal.close();
    await settle();
    expect(g.closedUnderSync).toEqual([]);
    g.held[1]!.release();
    await closing;
    expect(g.closedUnderSync).toEqual([]);

    const reopened = await Journal.open({ dir, io: g.io });
    offsets.forEach((o, i) => expect(Buffer.from(reopened.read(o)!.payload).equals(Buffer.from(payloadOf(i, 1024)))).toBe(true));
    await reopened.close();
  });

  it('refuses a writebackBytes that is not a non-negative integer, and creates nothing', async () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) {
      const dir = join(tempDir(), 'journal');
      await expect(Journal.open({ dir, durability: 'none', writebackBytes: bad })).rejects.toThrow(InvalidArgumentError);
      await expect(Journal.open({ dir, writebackBytes: bad })).rejects.toThrow(/writebackBytes must be a non-negative integer/);
      expect(existsSync(dir)).toBe(false);
    }
  });
});
