import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FailedStateError, Journal, nodeFileIO, type FileIO } from '../src/index.js';
import { HEADER_SIZE, RECORD_OVERHEAD, loadRecoveryPoint } from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../src/format/constants.js';
import { segmentName } from '../src/format/segmentName.js';
import { TAIL_CHECK_SLICE } from '../src/journal/tailCheck.js';
import { spawnChild } from './children/spawn.js';
import { expectSameBytes, payloadOf, tempDir } from './helpers.js';

/**
 * The clean-close check of the last segment runs after the open returns
 * (journal/tailCheck.ts): the open reads no record bytes, and every write
 * waits until the whole file has the CRC32C the close recorded. These tests
 * show that damage there at open is still found before anything is written
 * after it, that appends made meanwhile keep their order, and that a
 * process killed in the middle of the check leaves a journal whose next
 * open is right.
 */

const RECORDS = 700; // 4 KiB each: about 2.8 MiB, three slices of the check
const SIZE = 4096;
const point = (dir: string) => loadRecoveryPoint(nodeFileIO, dir, DEFAULT_MAX_PAYLOAD_BYTES);

async function closedJournal(dir: string): Promise<{ offsets: number[]; last: string }> {
  const j = await Journal.open({ dir, durability: 'none', preallocateBytes: 0 });
  const offsets: number[] = [];
  for (let i = 0; i < RECORDS; i++) offsets.push((await j.append(payloadOf(i, SIZE))).offset);
  await j.close();
  return { offsets, last: join(dir, segmentName(point(dir).closed!.base)) };
}

/** nodeFileIO counting the bytes read. */
function countingIO(): { io: FileIO; read: () => number } {
  let bytes = 0;
  const io: FileIO = {
    ...nodeFileIO,
    read(fd, buf, offset, length, position) {
      const n = nodeFileIO.read(fd, buf, offset, length, position);
      bytes += n;
      return n;
    },
  };
  return { io, read: () => bytes };
}

function expectRecords(j: Journal, offsets: number[], count: number): void {
  for (let i = 0; i < count; i++) expectSameBytes(j.read(offsets[i]!)!.payload, payloadOf(i, SIZE));
}

describe('the clean-close check in the background', () => {
  it('the open reads no record bytes; the check reads the segment once, before the first write', async () => {
    const dir = tempDir();
    const { offsets, last } = await closedJournal(dir);
    const segmentBytes = readFileSync(last).length;
    expect(segmentBytes).toBeGreaterThan(2 * TAIL_CHECK_SLICE);
    const counted = countingIO();
    const j = await Journal.open({ dir, io: counted.io });
    expect(j.recovery).toMatchObject({ lastSegmentTrusted: true, lastSegmentCheckDeferred: true, recordsVerified: 0 });
    expect(counted.read()).toBeLessThan(HEADER_SIZE + 16 * 1024); // segment header, RECOVERY_POINT, lock and head files
    const before = counted.read();
    const next = await j.append(payloadOf(RECORDS, SIZE));
    expect(next.offset).toBe(offsets.at(-1)! + RECORD_OVERHEAD + SIZE);
    expect(counted.read() - before).toBe(segmentBytes);
    await j.close();
  });

  it('appends, batches and syncs made while the check runs keep their order and are all written after it', async () => {
    const dir = tempDir();
    const { offsets } = await closedJournal(dir);
    const j = await Journal.open({ dir });
    const pending = [
      j.append(payloadOf(1000, 100)),
      j.appendBatch([payloadOf(1001, 100), payloadOf(1002, 100)]),
      j.sync(),
      j.append(payloadOf(1003, 100), { durability: 'none' }),
    ];
    const [a, batch, , d] = (await Promise.all(pending)) as [{ offset: number }, Array<{ offset: number }>, void, { offset: number }];
    const start = offsets.at(-1)! + RECORD_OVERHEAD + SIZE;
    expect([a.offset, ...batch.map((b) => b.offset), d.offset]).toEqual([0, 1, 2, 3].map((k) => start + k * (RECORD_OVERHEAD + 100)));
    const e = await j.append(payloadOf(1004, 100)); // after the check: straight to the writer
    expect(e.offset).toBe(start + 4 * (RECORD_OVERHEAD + 100));
    await j.close();
    const k = await Journal.open({ dir, scanSealedOnOpen: true });
    expect(Buffer.from(k.read(d.offset)!.payload)).toEqual(Buffer.from(payloadOf(1003, 100)));
    await k.close();
  });

  it('a close with nothing waiting cancels the check and leaves the mark; the next open checks again', async () => {
    const dir = tempDir();
    const { offsets, last } = await closedJournal(dir);
    const before = readFileSync(last);
    const markBefore = point(dir).closed;
    await (await Journal.open({ dir })).close();
    expectSameBytes(readFileSync(last), before);
    expect(point(dir).closed).toEqual(markBefore);
    const j = await Journal.open({ dir });
    expect(j.recovery.lastSegmentTrusted).toBe(true);
    expect((await j.append(payloadOf(1, 10))).offset).toBe(offsets.at(-1)! + RECORD_OVERHEAD + SIZE);
    await j.close();
  });

  const damages: Array<[string, (path: string, bytes: Buffer) => void]> = [
    ['a bit flipped in the middle', (path, bytes) => {
      bytes[Math.floor(bytes.length / 2)]! ^= 0x04;
      writeFileSync(path, bytes);
    }],
    ['the file replaced by one of the same size', (path, bytes) => {
      const other = Buffer.alloc(bytes.length, 0x5a);
      bytes.copy(other, 0, 0, HEADER_SIZE); // a valid header, then no record
      writeFileSync(path, other);
    }],
  ];
  for (const [what, damage] of damages) {
    it(`${what}: the first append is refused and nothing is written; the reopen cuts and quarantines from the damage`, async () => {
      const dir = tempDir();
      const { offsets, last } = await closedJournal(dir);
      damage(last, readFileSync(last));
      const damaged = readFileSync(last);
      const j = await Journal.open({ dir });
      expect(j.recovery).toMatchObject({ lastSegmentTrusted: true, lastSegmentCheckDeferred: true });
      await expect(j.append(payloadOf(0, 10))).rejects.toBeInstanceOf(FailedStateError);
      await expect(j.append(payloadOf(1, 10))).rejects.toBeInstanceOf(FailedStateError);
      await j.close();
      expectSameBytes(readFileSync(last), damaged);
      expect(point(dir).marked).toBe(false);

      const k = await Journal.open({ dir });
      expect(k.recovery.lastSegmentTrusted).toBe(false);
      expect(k.recovery.cuts).toHaveLength(1);
      const cut = k.recovery.cuts[0]!;
      expect(k.head).toBe(cut.offset);
      const kept = offsets.filter((o) => o < cut.offset).length;
      expect(kept).toBe(what.includes('middle') ? offsets.findIndex((o) => o >= cut.offset) : 0);
      expectRecords(k, offsets, kept);
      const appended = await k.append(payloadOf(9, 10));
      expect(appended.offset).toBe(cut.offset);
      await k.close();
    });
  }

  it('the tail truncated: the size no longer matches, the open scans and cuts the torn record as before', async () => {
    const dir = tempDir();
    const { offsets, last } = await closedJournal(dir);
    truncateSync(last, readFileSync(last).length - 100);
    const j = await Journal.open({ dir });
    expect(j.recovery).toMatchObject({ lastSegmentTrusted: false, cuts: [{ offset: offsets.at(-1), reason: expect.any(String) }] });
    expect(j.recovery.lastSegmentCheckDeferred).toBeUndefined();
    expectRecords(j, offsets, RECORDS - 1);
    expect((await j.append(payloadOf(5, 10))).offset).toBe(offsets.at(-1));
    await j.close();
  });
});

describe('a writer killed in the middle of the check', () => {
  for (const append of [false, true]) {
    it(`${append ? 'with an append waiting: ' : ''}nothing was written, the mark holds, and the next open is right`, async () => {
      const dir = tempDir();
      const { offsets, last } = await closedJournal(dir);
      const before = readFileSync(last);
      const child = spawnChild('tailChecker.ts', append ? [dir, 'append'] : [dir]);
      const line = await child.waitFor((l) => l.startsWith('checking') || l.startsWith('no-check'));
      expect(line).toBe(`checking ${offsets.at(-1)! + RECORD_OVERHEAD + SIZE}`);
      child.proc.kill('SIGKILL');
      await child.exited;
      expect(child.lines).not.toContain('acknowledged');
      expectSameBytes(readFileSync(last), before);
      expect(point(dir).marked).toBe(true);

      const j = await Journal.open({ dir });
      expect(j.recovery).toMatchObject({ lastSegmentTrusted: true, cuts: [] });
      expect((await j.append(payloadOf(RECORDS, SIZE))).offset).toBe(offsets.at(-1)! + RECORD_OVERHEAD + SIZE);
      expectRecords(j, offsets, RECORDS);
      await j.close();
    });
  }

  it('with damage there at open: the check that finishes after the kill still refuses the append, and the reopen cuts', async () => {
    const dir = tempDir();
    const { offsets, last } = await closedJournal(dir);
    const bytes = readFileSync(last);
    const at = bytes.length - 3 * (RECORD_OVERHEAD + SIZE); // inside the third record from the end
    bytes[at]! ^= 0x01;
    writeFileSync(last, bytes);
    const child = spawnChild('tailChecker.ts', [dir, 'append']);
    await child.waitFor((l) => l.startsWith('checking'));
    child.proc.kill('SIGKILL');
    await child.exited;
    expectSameBytes(readFileSync(last), bytes);

    const j = await Journal.open({ dir });
    await expect(j.append(payloadOf(0, 10))).rejects.toBeInstanceOf(FailedStateError);
    await j.close();
    const k = await Journal.open({ dir });
    expect(k.recovery.cuts).toMatchObject([{ offset: offsets[RECORDS - 3], reason: 'crc-mismatch' }]);
    expectRecords(k, offsets, RECORDS - 3);
    await k.close();
  });
});
