import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FailedStateError, Journal, nodeFileIO } from '../src/index.js';
import { RECORD_OVERHEAD, RECOVERY_POINT_FILE, crc32cJs, loadRecoveryPoint, writeRecoveryPoint } from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../src/format/constants.js';
import { segmentName } from '../src/format/segmentName.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { payloadOf, tempDir } from './helpers.js';
import { simDir } from './rng.js';

/**
 * The clean-close mark: a writer's close records the last segment's size and
 * CRC32C in RECOVERY_POINT, and the next writer's open skips the record scan
 * of that segment when both still match. These tests pin down what makes
 * that safe: the mark is withdrawn durably before the reopened writer
 * writes anything (or the writer fails), a changed file fails the CRC and is
 * scanned and cut as before (a segment over 1 MiB is checked in the
 * background instead: journal.tailCheck.int.spec.ts), and a writer that did
 * not close cleanly leaves no mark.
 */

const point = (dir: string, io = nodeFileIO) => loadRecoveryPoint(io, dir, DEFAULT_MAX_PAYLOAD_BYTES);

async function closedJournal(dir: string, io = nodeFileIO, records = 40): Promise<number[]> {
  const j = await Journal.open({ dir, io, maxSegmentBytes: 2000, preallocateBytes: 0 });
  const offsets: number[] = [];
  for (let i = 0; i < records; i++) offsets.push((await j.append(payloadOf(i, 100))).offset);
  await j.close();
  return offsets;
}

describe('clean close', () => {
  it('a reopen after a clean close skips the scan of the last segment; the mark is gone before the first append', async () => {
    const dir = tempDir();
    const offsets = await closedJournal(dir);
    const mark = point(dir).closed!;
    const last = segmentName(mark.base);
    expect(mark.size).toBe(readFileSync(join(dir, last)).length);

    const j = await Journal.open({ dir });
    expect(j.recovery!).toMatchObject({ lastSegmentTrusted: true, recordsVerified: 0, cuts: [] });
    expect(j.recovery!.lastSegmentCheckDeferred).toBeUndefined(); // under 1 MiB: checked by the open itself
    expect(j.head).toBe(offsets.at(-1)! + RECORD_OVERHEAD + 100);
    expect(point(dir).marked).toBe(true); // nothing written yet: withdrawn before the first write
    offsets.forEach((o, i) => expect(Buffer.from(j.read(o)!.payload)).toEqual(Buffer.from(payloadOf(i, 100))));
    const next = (await j.append(payloadOf(99, 100))).offset;
    expect(point(dir).marked).toBe(false); // withdrawn before the append was written
    await j.close();

    const again = await Journal.open({ dir, scanSealedOnOpen: true });
    expect(again.recovery!).toMatchObject({ lastSegmentTrusted: false, segmentsTrusted: 0, recordsVerified: offsets.length + 1 });
    expect(Buffer.from(again.read(next)!.payload)).toEqual(Buffer.from(payloadOf(99, 100)));
    await again.close();
  });

  it('the withdrawal is durable before the first write; a power loss right after the open (nothing written) keeps the mark, and it still holds', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const offsets = await closedJournal(dir, disk);
    expect(point(dir, disk).marked).toBe(true);
    const ops: string[] = [];
    disk.inject = (call) => {
      if (call.op === 'write' && call.path.endsWith('.wal')) ops.push('segment write');
      if (call.op === 'syncDir') ops.push('syncDir');
      if (call.op === 'rename' && call.path.includes(RECOVERY_POINT_FILE)) ops.push('point renamed');
      return undefined;
    };
    const j = await Journal.open({ dir, io: disk });
    expect(j.recovery!.lastSegmentTrusted).toBe(true);
    await j.append(payloadOf(7, 100), { durability: 'none' });
    disk.freeze(); // the machine stops here: the record was never synced
    await j.close().catch(() => undefined);
    disk.inject = undefined;
    disk.powerLoss();
    const renamed = ops.indexOf('point renamed');
    expect(renamed).toBeGreaterThanOrEqual(0);
    expect(ops.indexOf('syncDir', renamed)).toBeLessThan(ops.indexOf('segment write'));
    expect(point(dir, disk).marked).toBe(false);

    // the open alone writes nothing, so a power loss after it leaves the mark, which still matches
    const disk2 = new SimulatedDisk();
    const dir2 = simDir();
    await closedJournal(dir2, disk2);
    const k = await Journal.open({ dir: dir2, io: disk2 });
    disk2.freeze();
    await k.close().catch(() => undefined);
    disk2.powerLoss();
    expect(point(dir2, disk2).marked).toBe(true);
    const again = await Journal.open({ dir: dir2, io: disk2 });
    expect(again.recovery!.lastSegmentTrusted).toBe(true);
    expect((await again.append(payloadOf(8, 100))).offset).toBe(offsets.at(-1)! + RECORD_OVERHEAD + 100);
    await again.close();
  });

  it('writes after the reopen and a power loss with a torn tail: the next open scans and keeps every acknowledged record', async () => {
    for (const keepPrefix of [false, true]) {
      const disk = new SimulatedDisk();
      const dir = simDir();
      const offsets = await closedJournal(dir, disk);
      const j = await Journal.open({ dir, io: disk, maxSegmentBytes: 2000 });
      const acked = new Map<number, number>(offsets.map((o, i) => [o, i]));
      for (let i = 100; i < 130; i++) acked.set((await j.append(payloadOf(i, 100))).offset, i);
      for (let i = 130; i < 140; i++) void j.append(payloadOf(i, 100), { durability: 'none' }).catch(() => undefined);
      disk.freeze();
      await j.close().catch(() => undefined);
      disk.powerLoss({ keepPrefix });
      const reopened = await Journal.open({ dir, io: disk });
      expect(reopened.recovery!.lastSegmentTrusted).toBe(false);
      for (const [o, i] of acked) expect(Buffer.from(reopened.read(o)!.payload)).toEqual(Buffer.from(payloadOf(i, 100)));
      await reopened.close();
    }
  });

  it('a bit flip in the last segment after the close fails the CRC: the open scans, cuts and quarantines as before', async () => {
    const dir = tempDir();
    const offsets = await closedJournal(dir);
    const last = join(dir, segmentName(point(dir).closed!.base));
    const bytes = readFileSync(last);
    bytes[bytes.length - 5]! ^= 0x10; // inside the payload of the last record
    writeFileSync(last, bytes);
    const j = await Journal.open({ dir });
    expect(j.recovery!.lastSegmentTrusted).toBe(false);
    expect(j.recovery!.cuts).toMatchObject([{ offset: offsets.at(-1), reason: 'crc-mismatch' }]);
    expect(j.head).toBe(offsets.at(-1));
    await j.close();
  });

  it('a writer that fails leaves no mark: its close syncs nothing and vouches for nothing', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    await closedJournal(dir, disk);
    const j = await Journal.open({ dir, io: disk });
    disk.inject = (call) => (call.op === 'fsync' && call.path.endsWith('.wal') ? { error: 'EIO' } : undefined);
    await expect(j.append(payloadOf(1, 100))).rejects.toBeInstanceOf(FailedStateError);
    disk.inject = undefined;
    await j.close();
    expect(point(dir, disk).marked).toBe(false);
    const reopened = await Journal.open({ dir, io: disk });
    expect(reopened.recovery!.lastSegmentTrusted).toBe(false);
    await reopened.close();
  });

  it('a writer that can neither rewrite nor remove the mark fails its first append (cause WAL_IO) and writes nothing', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const offsets = await closedJournal(dir, disk);
    const segment = join(dir, segmentName(point(dir, disk).closed!.base));
    const before = disk.readFile(segment);
    disk.inject = (call) => {
      if (call.path.includes(`${RECOVERY_POINT_FILE}.`) && call.op === 'open') return { error: 'ENOSPC' }; // the new file
      if (call.path.endsWith(RECOVERY_POINT_FILE) && call.op === 'unlink') return { error: 'EIO' };
      return undefined;
    };
    const failing = await Journal.open({ dir, io: disk });
    await expect(failing.append(payloadOf(1, 100))).rejects.toMatchObject({ code: 'WAL_FAILED_STATE', cause: { code: 'WAL_IO' } });
    await failing.close();
    expect(disk.readFile(segment)).toEqual(before);
    expect(point(dir, disk).marked).toBe(true);

    // when only the rewrite fails, the mark is removed and the append goes through
    disk.inject = (call) => (call.path.includes(`${RECOVERY_POINT_FILE}.`) && call.op === 'open' ? { error: 'ENOSPC' } : undefined);
    const j = await Journal.open({ dir, io: disk });
    expect(j.head).toBe(offsets.at(-1)! + RECORD_OVERHEAD + 100);
    await j.append(payloadOf(2, 100));
    expect(disk.stat(join(dir, RECOVERY_POINT_FILE))).toBeUndefined();
    disk.inject = undefined;
    await j.close();
  });

  it('scanSealedOnOpen true and false scan the last segment anyway and withdraw the mark; false leaves none at close', async () => {
    for (const scanSealedOnOpen of [true, false]) {
      const dir = tempDir();
      await closedJournal(dir);
      const j = await Journal.open({ dir, scanSealedOnOpen });
      expect(j.recovery!.lastSegmentTrusted).toBe(false);
      expect(j.recovery!.recordsVerified).toBeGreaterThan(0);
      expect(point(dir).marked).toBe(false);
      await j.close();
      expect(point(dir).marked, String(scanSealedOnOpen)).toBe(scanSealedOnOpen);
    }
  });

  it('a mark for another size, or without a CRC, is not trusted and is withdrawn all the same', async () => {
    for (const variant of ['size', 'no-crc'] as const) {
      const dir = tempDir();
      const offsets = await closedJournal(dir);
      const mark = point(dir).closed!;
      const sealed = [...point(dir).sealed];
      if (variant === 'size') {
        // one record short: the size check alone must refuse it
        writeRecoveryPoint(nodeFileIO, dir, sealed, DEFAULT_MAX_PAYLOAD_BYTES, { ...mark, size: mark.size - RECORD_OVERHEAD - 100 });
      } else {
        const body = JSON.stringify({ format: 1, maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES, segments: sealed, closed: [mark.base, mark.size] });
        writeFileSync(join(dir, RECOVERY_POINT_FILE), `${crc32cJs(Buffer.from(body)).toString(16).padStart(8, '0')}\n${body}`);
      }
      expect(point(dir).marked).toBe(true);
      const j = await Journal.open({ dir });
      expect(j.recovery!, variant).toMatchObject({ lastSegmentTrusted: false, cuts: [] });
      expect(j.recovery!.recordsVerified).toBeGreaterThan(0);
      expect(j.head).toBe(offsets.at(-1)! + RECORD_OVERHEAD + 100);
      expect(point(dir).marked).toBe(false);
      await j.close();
    }
  });
});
