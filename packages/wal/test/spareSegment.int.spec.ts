import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FailedStateError, Journal, verifyJournal } from '../src/index.js';
import { HEADER_SIZE } from '../src/format/constants.js';
import { decodeSegmentHeader } from '../src/format/segmentHeader.js';
import { segmentName } from '../src/format/segmentName.js';
import { SPARE_SEGMENT_FILE } from '../src/journal/spareSegment.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { settle } from './gatedDisk.js';
import { tempDir } from './helpers.js';
import { simDir } from './rng.js';

/**
 * The spare segment: the next segment's file, zero-filled to the segment
 * limit and synced in the background, that a rotation names as the new
 * segment. These tests pin down that it is used, that it is made a segment
 * durably (header synced before the rename, rename synced before any record),
 * that every way it can fail leaves the journal working on plain segment
 * creation, and that nothing of it outlives the writer.
 */

const SEGMENT = 4096;
const payload = (i: number): Buffer => Buffer.from(`record ${i} `.padEnd(200, '.'));

/** Appends until the journal has `segments` segment files; returns every offset with its index. */
async function appendUntil(journal: Journal, segments: number, from = 0, options: { durability?: 'none' } = {}): Promise<Map<number, number>> {
  const acked = new Map<number, number>();
  for (let i = from; journal.segmentList().length < segments; i++) {
    acked.set(await journal.append(payload(i), options), i);
    await settle(); // lets the spare's background writes and sync run
  }
  return acked;
}

function expectAll(journal: Journal, acked: Map<number, number>): void {
  for (const [offset, i] of acked) expect(Buffer.from(journal.read(offset)!.payload)).toEqual(payload(i));
}

describe('spare segment', () => {
  it('a rotation names the prepared spare as the new segment: full size, its header right, the spare gone', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: SEGMENT });
    const acked = await appendUntil(journal, 2);
    const second = journal.segmentList()[1]!;
    const bytes = disk.readFile(join(dir, second.name))!;
    expect(bytes.length).toBe(SEGMENT); // allocated to the limit by the spare, not grown record by record
    expect(decodeSegmentHeader(bytes.subarray(0, HEADER_SIZE), second.base)).toEqual({ ok: true, baseOffset: second.base });
    expect(disk.stat(join(dir, SPARE_SEGMENT_FILE))).toBeUndefined();
    // the next spare is prepared once the new segment is a quarter full
    await appendUntil(journal, 3, acked.size);
    expect(disk.readFile(join(dir, journal.segmentList()[2]!.name))!.length).toBe(SEGMENT);
    await journal.close();
    expect(disk.stat(join(dir, SPARE_SEGMENT_FILE))).toBeUndefined();
  });

  it('a power loss right after a rotation onto the spare (records not yet synced) recovers to the sealed log', async () => {
    for (const keepPrefix of [false, true]) {
      const disk = new SimulatedDisk();
      const dir = simDir();
      const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: SEGMENT, durability: 'none' });
      // durability none: nothing syncs the new segment after its creation, so
      // only the spare's own header sync and the directory sync make it whole
      const acked = await appendUntil(journal, 2, 0, { durability: 'none' });
      const [first, second] = journal.segmentList();
      expect(disk.readFile(join(dir, second!.name))!.length).toBe(SEGMENT);
      disk.freeze(); // the machine stops here; the writer never gets to close
      await journal.close().catch(() => undefined);
      disk.powerLoss({ keepPrefix });
      const reopened = await Journal.open({ dir, io: disk });
      // a torn unsynced record in the new segment may be cut (keepPrefix), but never its header
      for (const cut of reopened.recovery!.cuts) {
        expect(cut.segment).toBe(second!.name);
        expect(cut.position).toBeGreaterThanOrEqual(HEADER_SIZE);
      }
      if (!keepPrefix) expect(reopened.recovery!.cuts).toEqual([]);
      expect(reopened.segmentList().map((s) => s.name)).toEqual([first!.name, second!.name]);
      // the sealed segment was synced by the rotation: every record in it survives
      for (const [offset, i] of acked) if (offset < second!.base) expect(Buffer.from(reopened.read(offset)!.payload)).toEqual(payload(i));
      await reopened.append(payload(999));
      await reopened.close();
    }
  });

  it('a spare whose write or sync fails is dropped; the rotation creates the segment itself and the journal goes on', async () => {
    for (const op of ['write', 'fsync', 'open'] as const) {
      const disk = new SimulatedDisk();
      const dir = simDir();
      let failed = 0;
      disk.inject = (call) => {
        if (call.op === op && call.path.endsWith(SPARE_SEGMENT_FILE)) return failed++, { error: op === 'write' ? 'ENOSPC' : 'EIO' };
        return undefined;
      };
      // no preallocation: a segment created the plain way grows record by record
      const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: SEGMENT, groupCommit: true, preallocateBytes: 0 });
      const acked = await appendUntil(journal, 4);
      expect(failed, op).toBeGreaterThan(0);
      // segments created the plain way: grown record by record, never padded to the limit
      for (const s of journal.segmentList().slice(1)) expect(disk.readFile(join(dir, s.name))!.length).toBeLessThan(SEGMENT);
      expect(disk.stat(join(dir, SPARE_SEGMENT_FILE))).toBeUndefined();
      expectAll(journal, acked);
      await journal.close();
      disk.powerLoss();
      const reopened = await Journal.open({ dir, io: disk });
      expectAll(reopened, acked);
      await reopened.close();
    }
  });

  it('naming the spare fails (header write, its sync, the rename): the plain creation takes over', async () => {
    for (const op of ['write', 'fsync', 'rename'] as const) {
      const disk = new SimulatedDisk();
      const dir = simDir();
      let armed = false;
      let failed = 0;
      disk.inject = (call) => {
        // header write, its sync and the rename are the only synchronous calls on the spare
        const onSpare = call.path.endsWith(SPARE_SEGMENT_FILE);
        if (armed && onSpare && call.op === op && (op !== 'write' || call.length === HEADER_SIZE)) return failed++, { error: 'EIO' };
        return undefined;
      };
      const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: SEGMENT, preallocateBytes: 0 });
      const acked = await appendUntil(journal, 1);
      armed = true;
      for (const [k, v] of await appendUntil(journal, 2, 100)) acked.set(k, v);
      expect(failed, op).toBe(1);
      armed = false;
      expect(disk.readFile(join(dir, journal.segmentList()[1]!.name))!.length, op).toBeLessThan(SEGMENT);
      expect(disk.stat(join(dir, SPARE_SEGMENT_FILE))).toBeUndefined();
      // the next rotation prepares and uses a spare again
      for (const [k, v] of await appendUntil(journal, 3, 200)) acked.set(k, v);
      expect(disk.readFile(join(dir, journal.segmentList()[2]!.name))!.length, op).toBe(SEGMENT);
      expectAll(journal, acked);
      await journal.close();
    }
  });

  it('the directory sync after the rename fails: the writer stops, and reopening keeps every acknowledged record', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    let renamed = false;
    disk.inject = (call) => {
      if (call.op === 'rename' && call.path.endsWith(SPARE_SEGMENT_FILE)) renamed = true;
      else if (renamed && call.op === 'syncDir') return { error: 'EIO' };
      return undefined;
    };
    const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: SEGMENT });
    const acked = new Map<number, number>();
    let error: unknown;
    for (let i = 0; error === undefined && i < 1000; i++) {
      try {
        acked.set(await journal.append(payload(i)), i);
      } catch (err) {
        error = err;
      }
      await settle();
    }
    expect(renamed).toBe(true);
    expect(error).toBeInstanceOf(FailedStateError);
    await expect(journal.append(payload(0))).rejects.toBeInstanceOf(FailedStateError);
    await journal.close();
    disk.inject = undefined;
    disk.powerLoss({ keepPrefix: true });
    const reopened = await Journal.open({ dir, io: disk });
    expectAll(reopened, acked);
    expect(disk.stat(join(dir, SPARE_SEGMENT_FILE))).toBeUndefined();
    await reopened.close();
  });

  it('on a real disk: a spare left by a crash is removed at the next open, readers and verify never list it', async () => {
    const dir = tempDir();
    const journal = await Journal.open({ dir, maxSegmentBytes: 64 * 1024 });
    for (let i = 0; i < 100; i++) await journal.append(payload(i));
    // the spare is prepared on the thread pool: wait for it to reach its full size
    const spare = join(dir, SPARE_SEGMENT_FILE);
    for (let t = 0; t < 200 && !(existsSync(spare) && statSync(spare).size === 64 * 1024); t++) await new Promise((r) => setTimeout(r, 5));
    expect(statSync(spare).size).toBe(64 * 1024);
    const reader = await Journal.open({ dir, readOnly: true });
    expect(reader.segmentList().map((s) => s.name)).toEqual([segmentName(0)]);
    expect(verifyJournal(dir).problems).toEqual([]);
    await reader.close();
    await journal.close();
    expect(existsSync(spare)).toBe(false);

    writeFileSync(spare, Buffer.alloc(1000)); // as a crash mid-preparation leaves it
    const reopened = await Journal.open({ dir, maxSegmentBytes: 64 * 1024 });
    expect(existsSync(spare)).toBe(false);
    expect(reopened.head).toBe(journal.head);
    await reopened.close();
  });

  it('spareSegment: false never writes one', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: SEGMENT, spareSegment: false });
    let touched = false;
    disk.inject = (call) => {
      if (call.path.endsWith(SPARE_SEGMENT_FILE)) touched = true;
      return undefined;
    };
    await appendUntil(journal, 3);
    expect(touched).toBe(false);
    await journal.close();
  });
});
