import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, nodeFileIO, type JournalReader, type VerifyOnRead } from '../src/index.js';
import {
  HEADER_SIZE,
  RECORD_OVERHEAD,
  RECOVERY_POINT_FILE,
  loadRecoveryPoint,
  readManyContinuing,
  readRecordsAt,
  writeRecoveryPoint,
} from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../src/format/constants.js';
import { segmentName } from '../src/format/segmentName.js';
import { syncedPrefixEvery } from '../src/journal/journalWriter.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { countingCrcBytes, flipBitInPlace, payloadOf, readFromCollecting, snapshotDir, tempDir, thrown } from './helpers.js';
import { seededRandom, simDir } from './rng.js';

/**
 * A reader's first scan of the last segment takes what RECOVERY_POINT
 * vouches for (the clean-close mark, the synced prefix) by the last record
 * the mark names: that record read and checked, the bytes before it unread
 * (vouchedPrefix.ts). Each read still checks every record it hands out, so
 * damage below the mark fails the read that meets it. A mark from before
 * (no last record) is checked by the CRC32C of the whole prefix, as then.
 */

const RECORDS = 400;
const SIZE = 300;
const point = (dir: string, io = nodeFileIO) => loadRecoveryPoint(io, dir, DEFAULT_MAX_PAYLOAD_BYTES);

/** Opens a reader with the bytes its open hashed (CRC32C) counted. */
async function openCounting(dir: string, options: { io?: SimulatedDisk; verifyOnRead?: VerifyOnRead } = {}): Promise<{ reader: JournalReader; hashed: number }> {
  const { value, hashed } = await countingCrcBytes(() => Journal.openForRead({ dir, ...options }));
  return { reader: value, hashed };
}

async function written(dir: string, count = RECORDS): Promise<number[]> {
  const j = await Journal.open({ dir, durability: 'none' });
  const offsets = (await j.appendBatch(Array.from({ length: count }, (_, i) => payloadOf(i, SIZE)))).map((a) => a.offset);
  await j.close();
  return offsets;
}

function readAll(reader: JournalReader): number[] {
  const offsets: number[] = [];
  for (let pos = 0; ; ) {
    const batch = reader.readMany(pos, 64);
    if (batch.length === 0) return offsets;
    for (const r of batch) {
      expect(Buffer.from(r.payload)).toEqual(Buffer.from(payloadOf(offsets.length, SIZE)));
      offsets.push(r.offset);
    }
    pos = batch.at(-1)!.next;
  }
}

const segmentBytes = HEADER_SIZE + RECORDS * (RECORD_OVERHEAD + SIZE);
/** Bytes an open hashes besides the segment's: the published head's CRC (8 bytes a read, read again when torn). */
const OTHER = 64;

describe("a reader's open after its writer vouched for the bytes", () => {
  it('after a clean close: the mark names the last record, the open hashes that record alone, and every record is still read and checked', async () => {
    const dir = tempDir();
    const offsets = await written(dir);
    const mark = point(dir).closed!;
    expect(mark.last).toEqual({ position: HEADER_SIZE + offsets.at(-1)!, crc: readFileSync(join(dir, segmentName(0))).readUInt32LE(HEADER_SIZE + offsets.at(-1)! + 4) });
    const { reader, hashed } = await openCounting(dir);
    try {
      expect(reader.head).toBe(offsets.at(-1)! + RECORD_OVERHEAD + SIZE);
      expect(hashed).toBeLessThanOrEqual(RECORD_OVERHEAD + SIZE + OTHER);
      expect(readAll(reader)).toEqual(offsets);
    } finally {
      await reader.close();
    }
  });

  it("a live writer's synced prefix: the open hashes its last record and the records past it only", async () => {
    const saved = syncedPrefixEvery.bytes;
    syncedPrefixEvery.bytes = 16 * 1024;
    const dir = tempDir();
    const j = await Journal.open({ dir });
    try {
      for (let i = 0; i < RECORDS; i += 20) await j.appendBatch(Array.from({ length: 20 }, (_, k) => payloadOf(i + k, SIZE)));
      const prefix = point(dir).prefix!;
      expect(prefix.last!.position + RECORD_OVERHEAD + SIZE).toBe(prefix.size);
      const { reader, hashed } = await openCounting(dir);
      try {
        expect(reader.head).toBe(j.head);
        expect(hashed).toBeLessThanOrEqual(RECORD_OVERHEAD + SIZE + (segmentBytes - prefix.size) + OTHER);
        expect(hashed).toBeLessThan(segmentBytes / 4);
        expect(readAll(reader)).toHaveLength(RECORDS);
      } finally {
        await reader.close();
      }
    } finally {
      syncedPrefixEvery.bytes = saved;
      await j.close();
    }
  });

  for (const setting of ['crc', 'full'] as VerifyOnRead[]) {
    it(`a bit flipped in each field of a record in the middle of the trusted prefix fails the read that meets it, naming its offset (${setting})`, async () => {
      const dir = tempDir();
      const offsets = await written(dir);
      const victim = 200;
      const at = HEADER_SIZE + offsets[victim]!;
      const head = offsets.at(-1)! + RECORD_OVERHEAD + SIZE;
      // the length, the CRC32C, the BLAKE3 field (first, middle, last byte), the payload (first, middle, last byte)
      const bytes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 39, RECORD_OVERHEAD, RECORD_OVERHEAD + SIZE / 2, RECORD_OVERHEAD + SIZE - 1];
      for (const k of bytes) {
        const ctx = `${setting}: byte ${k} of the record at ${offsets[victim]}`;
        flipBitInPlace(join(dir, segmentName(0)), at + k, k % 8);
        const before = snapshotDir(dir);
        const { reader, hashed } = await openCounting(dir, { verifyOnRead: setting });
        try {
          // trusted by the last record: the head is the writer's, past the damage
          expect(reader.head, ctx).toBe(head);
          expect(hashed, ctx).toBeLessThanOrEqual(RECORD_OVERHEAD + SIZE + OTHER);
          const damage = { code: WalErrorCodes.CorruptRecord, location: { offset: offsets[victim] } };
          const seq = await readFromCollecting(reader, 0);
          expect(seq.offsets, ctx).toEqual(offsets.slice(0, victim));
          expect(seq.error, ctx).toMatchObject(damage);
          const transient: number[] = [];
          let error: unknown;
          try {
            for await (const r of reader.readFrom(0, { transient: true })) transient.push(r.offset);
          } catch (err) {
            error = err;
          }
          expect(transient, ctx).toEqual(offsets.slice(0, victim));
          expect(error, ctx).toMatchObject(damage);
          let pos = 0;
          const many = thrown(() => {
            for (;;) {
              const batch = readManyContinuing(reader, pos, 64);
              if (batch.length === 0) return;
              pos = batch.at(-1)!.next;
            }
          });
          // a call that meets the damage throws (the records before it in that call are not returned)
          expect(pos, ctx).toBeLessThanOrEqual(offsets[victim]!);
          expect(pos, ctx).toBeGreaterThan(offsets[victim - 64]!);
          expect(many, ctx).toMatchObject(damage);
          expect(thrown(() => readRecordsAt(reader, [offsets[victim]!], () => undefined)), ctx).toMatchObject(damage);
        } finally {
          await reader.close();
        }
        expect(snapshotDir(dir), ctx).toEqual(before);
        flipBitInPlace(join(dir, segmentName(0)), at + k, k % 8);
      }
    });
  }

  it('a mark whose last record is damaged is not trusted: the scan goes record by record and the head stops before that record', async () => {
    const dir = tempDir();
    const offsets = await written(dir);
    flipBitInPlace(join(dir, segmentName(0)), HEADER_SIZE + offsets.at(-1)! + RECORD_OVERHEAD + 3, 1);
    const { reader, hashed } = await openCounting(dir);
    try {
      expect(hashed).toBeGreaterThan(segmentBytes / 2);
      expect(reader.head).toBe(offsets.at(-1));
      expect(readAll(reader)).toEqual(offsets.slice(0, -1));
    } finally {
      await reader.close();
    }
  });

  it('a stale mark (the segment cut below it and written again by a later writer) is not trusted: the reader sees the records now there', async () => {
    const dir = tempDir();
    await written(dir);
    const stale = readFileSync(join(dir, RECOVERY_POINT_FILE));
    // what a recovery cut and new appends leave: the same segment, other records past record 100, longer than before
    const segment = join(dir, segmentName(0));
    const bytes = readFileSync(segment);
    const cutAt = HEADER_SIZE + 100 * (RECORD_OVERHEAD + SIZE);
    writeFileSync(segment, bytes.subarray(0, cutAt));
    const j = await Journal.open({ dir, durability: 'none' });
    const fresh = await j.appendBatch(Array.from({ length: 400 }, (_, i) => payloadOf(100 + i, SIZE).fill(7, 0, 1)));
    await j.close();
    // the writer replaced the point before it wrote (withdrawMarks); put the stale one back, as if it had not
    writeFileSync(join(dir, RECOVERY_POINT_FILE), stale);
    const { reader, hashed } = await openCounting(dir);
    try {
      expect(hashed).toBeGreaterThan(segmentBytes);
      expect(reader.head).toBe(fresh.at(-1)!.offset + RECORD_OVERHEAD + SIZE);
      const got = reader.readMany(fresh[0]!.offset, 400);
      expect(got.map((r) => r.offset)).toEqual(fresh.map((a) => a.offset));
      expect(got.every((r) => r.payload[0] === 7)).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it('a writer whose recovery cut below the synced prefix replaces the point before it writes: a reader never sees the old prefix over new records', async () => {
    const saved = syncedPrefixEvery.bytes;
    syncedPrefixEvery.bytes = 16 * 1024;
    try {
      const dir = tempDir();
      const j = await Journal.open({ dir });
      for (let i = 0; i < RECORDS; i += 20) await j.appendBatch(Array.from({ length: 20 }, (_, k) => payloadOf(i + k, SIZE)));
      // a crash: the writer's handle dropped, its lock left behind (released here), no clean close
      const old = point(dir).prefix!;
      (j as unknown as { lock: { release(): void } }).lock.release();
      // media damage below the prefix: the next writer's recovery cuts there
      flipBitInPlace(join(dir, segmentName(0)), HEADER_SIZE + 50 * (RECORD_OVERHEAD + SIZE) + RECORD_OVERHEAD + 1, 2);
      const next = await Journal.open({ dir, repair: true });
      expect(next.recovery!.cuts).toHaveLength(1);
      expect(point(dir).prefix?.size ?? 0).toBeLessThan(old.size);
      await next.appendBatch(Array.from({ length: 300 }, (_, i) => payloadOf(1000 + i, SIZE)));
      const reader = await Journal.openForRead({ dir });
      try {
        expect(reader.head).toBe(next.head);
        const got = readAll2(reader);
        expect(got.slice(50).every((p, i) => Buffer.from(p).equals(Buffer.from(payloadOf(1000 + i, SIZE))))).toBe(true);
      } finally {
        await reader.close();
        await next.close();
      }
    } finally {
      syncedPrefixEvery.bytes = saved;
    }
  });
});

describe("the writer's side: no record is written while the point vouches for bytes a recovery cut", () => {
  it('a writer that can neither rewrite nor remove a synced prefix it cut below does not open, and writes nothing', async () => {
    const saved = syncedPrefixEvery.bytes;
    syncedPrefixEvery.bytes = 16 * 1024;
    try {
      const disk = new SimulatedDisk();
      const dir = simDir();
      const killed = await Journal.open({ dir, io: disk });
      for (let i = 0; i < RECORDS; i += 20) await killed.appendBatch(Array.from({ length: 20 }, (_, k) => payloadOf(i + k, SIZE)));
      (killed as unknown as { lock: { release(): void } }).lock.release(); // killed: no close
      const old = point(dir, disk).prefix!;
      const segment = join(dir, segmentName(0));
      // damage below the prefix: the next recovery cuts there
      const cutAt = HEADER_SIZE + 50 * (RECORD_OVERHEAD + SIZE);
      const byte = disk.readFile(segment)!.slice(cutAt + RECORD_OVERHEAD + 1, cutAt + RECORD_OVERHEAD + 2);
      byte[0]! ^= 4;
      const fd = disk.open(segment, 'r+');
      disk.write(fd, byte, 0, 1, cutAt + RECORD_OVERHEAD + 1);
      disk.fsync(fd);
      disk.close(fd);
      disk.inject = (call) => {
        if (call.path.includes(`${RECOVERY_POINT_FILE}.`) && call.op === 'open') return { error: 'ENOSPC' }; // the new file
        if (call.path.endsWith(RECOVERY_POINT_FILE) && call.op === 'unlink') return { error: 'EIO' };
        return undefined;
      };
      const refused = await Journal.open({ dir, io: disk }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toMatchObject({ code: 'WAL_IO' });
      expect(point(dir, disk).prefix).toEqual(old);
      expect(disk.readFile(segment)!.length).toBe(cutAt); // recovery cut; nothing written after
      disk.inject = undefined;
      const reader = await Journal.openForRead({ dir, io: disk });
      try {
        expect(reader.head).toBe(cutAt - HEADER_SIZE);
      } finally {
        await reader.close();
      }
      const opened = await Journal.open({ dir, io: disk });
      expect(point(dir, disk).prefix!.size).toBe(cutAt);
      await opened.close();
    } finally {
      syncedPrefixEvery.bytes = saved;
    }
  });
});

describe('a writer that keeps no recovery point (scanSealedOnOpen: false)', () => {
  it("drops its predecessor's synced prefix at open: readers scan what it writes instead of trusting the old mark", async () => {
    const saved = syncedPrefixEvery.bytes;
    syncedPrefixEvery.bytes = 16 * 1024;
    try {
      const dir = tempDir();
      const killed = await Journal.open({ dir });
      for (let i = 0; i < RECORDS; i += 20) await killed.appendBatch(Array.from({ length: 20 }, (_, k) => payloadOf(i + k, SIZE)));
      (killed as unknown as { lock: { release(): void } }).lock.release(); // killed: no close
      expect(point(dir).prefixed).toBe(true);
      const j = await Journal.open({ dir, scanSealedOnOpen: false });
      try {
        expect(point(dir)).toMatchObject({ prefixed: false, marked: false });
      } finally {
        await j.close();
      }
    } finally {
      syncedPrefixEvery.bytes = saved;
    }
  });
});

function readAll2(reader: JournalReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let pos = 0; ; ) {
    const batch = reader.readMany(pos, 64);
    if (batch.length === 0) return out;
    for (const r of batch) out.push(r.payload);
    pos = batch.at(-1)!.next;
  }
}

describe('a mark written before marks named their last record', () => {
  /** The point as an older writer left it: the same marks, no `closedLast`. */
  function asOlderPoint(dir: string): void {
    const p = point(dir);
    const { last: _dropped, ...closed } = p.closed!;
    writeRecoveryPoint(nodeFileIO, dir, [...p.sealed], DEFAULT_MAX_PAYLOAD_BYTES, closed);
    expect(point(dir).closed!.last).toBeUndefined();
  }

  it('is checked as before: one CRC32C pass over the prefix (a few calls), every record read', async () => {
    const dir = tempDir();
    const offsets = await written(dir);
    asOlderPoint(dir);
    const { reader, hashed } = await openCounting(dir);
    try {
      expect(hashed).toBeGreaterThanOrEqual(segmentBytes);
      expect(hashed).toBeLessThan(segmentBytes + OTHER);
      expect(reader.head).toBe(offsets.at(-1)! + RECORD_OVERHEAD + SIZE);
      expect(readAll(reader)).toEqual(offsets);
    } finally {
      await reader.close();
    }
  });

  it('a bit flipped below it fails its CRC: the scan goes record by record, and the head stops before the damaged record', async () => {
    const dir = tempDir();
    const offsets = await written(dir);
    asOlderPoint(dir);
    const damaged = 250;
    flipBitInPlace(join(dir, segmentName(0)), HEADER_SIZE + offsets[damaged]! + RECORD_OVERHEAD + 7, 3);
    const { reader } = await openCounting(dir);
    try {
      expect(reader.head).toBe(offsets[damaged]);
      expect(readAll(reader)).toEqual(offsets.slice(0, damaged));
    } finally {
      await reader.close();
    }
  });
});

describe('a reader opened after a power loss', () => {
  let saved = 0;
  beforeAll(() => {
    saved = syncedPrefixEvery.bytes;
    syncedPrefixEvery.bytes = 64 * 1024;
  });
  afterAll(() => {
    syncedPrefixEvery.bytes = saved;
  });

  it('reads only records that reached the disk, every one intact, whatever the prefix it trusted (12 power losses)', async () => {
    const rnd = seededRandom(24);
    let trusted = 0;
    for (let round = 0; round < 12; round++) {
      const disk = new SimulatedDisk(rnd);
      const dir = simDir();
      const j = await Journal.open({ dir, io: disk, groupCommit: true, durability: 'none' });
      const payloads = new Map<number, number>();
      const count = 200 + Math.floor(rnd() * 600);
      for (let i = 0; i < count; i++) {
        payloads.set((await j.append(payloadOf(i, SIZE))).offset, i);
        if (i % 97 === 0) await j.sync();
      }
      disk.freeze();
      await j.close().catch(() => undefined);
      disk.powerLoss({ keepPrefix: rnd() < 0.5 });
      const prefix = point(dir, disk).prefix;
      const { reader, hashed } = await openCounting(dir, { io: disk });
      try {
        if (prefix?.last && hashed < (count * (RECORD_OVERHEAD + SIZE)) / 2) trusted++;
        for (let pos = 0; ; ) {
          const batch = reader.readMany(pos, 64);
          if (batch.length === 0) break;
          for (const r of batch) expect(Buffer.from(r.payload), `round ${round}, offset ${r.offset}`).toEqual(Buffer.from(payloadOf(payloads.get(r.offset)!, SIZE)));
          pos = batch.at(-1)!.next;
        }
      } finally {
        await reader.close();
      }
    }
    expect(trusted).toBeGreaterThan(0);
  });
});
