import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal, nodeFileIO, type JournalReader } from '../src/index.js';
import { HEADER_SIZE, RECORD_OVERHEAD, RECOVERY_POINT_FILE, fastChecksums, loadRecoveryPoint, setChecksums } from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../src/format/constants.js';
import { segmentName } from '../src/format/segmentName.js';
import { syncedPrefixEvery } from '../src/journal/journalWriter.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { crossChecked, flipBitInPlace, payloadOf, tempDir } from './helpers.js';
import { seededRandom, simDir } from './rng.js';

/**
 * A reader's first scan of the last segment walks the bytes RECOVERY_POINT
 * vouches for (the clean-close mark, the synced prefix) once their CRC32C
 * still matches, instead of a CRC32C call per record (syncedPrefixWalk.ts).
 * These tests pin down when it does and what it never trusts.
 */

const RECORDS = 400;
const SIZE = 300;

/** Opens a reader with CRC32C calls counted; returns it and the number of calls its open made. */
async function openCounting(dir: string, io?: SimulatedDisk): Promise<{ reader: JournalReader; calls: number }> {
  const { provider, counts } = crossChecked(fastChecksums);
  const prev = setChecksums(provider);
  try {
    const reader = await Journal.openForRead({ dir, ...(io ? { io } : {}) });
    return { reader, calls: counts.crc };
  } finally {
    setChecksums(prev);
  }
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

describe("a reader's open after its writer vouched for the bytes", () => {
  it('after a clean close: one CRC32C pass over the segment, not a call per record; every record is still read and checked', async () => {
    const dir = tempDir();
    const offsets = await written(dir);
    expect(loadRecoveryPoint(nodeFileIO, dir, DEFAULT_MAX_PAYLOAD_BYTES).closed).toBeDefined();
    const { reader, calls } = await openCounting(dir);
    try {
      expect(reader.head).toBe(offsets.at(-1)! + RECORD_OVERHEAD + SIZE);
      expect(calls).toBeLessThan(5);
      expect(readAll(reader)).toEqual(offsets);
    } finally {
      await reader.close();
    }
  });

  it('a bit flipped below the mark fails its CRC: the scan goes record by record, and the head stops before the damaged record, as before', async () => {
    const dir = tempDir();
    const offsets = await written(dir);
    const damaged = 250;
    flipBitInPlace(join(dir, segmentName(0)), HEADER_SIZE + offsets[damaged]! + RECORD_OVERHEAD + 7, 3);
    const { reader, calls } = await openCounting(dir);
    try {
      expect(calls).toBeGreaterThan(damaged);
      expect(reader.head).toBe(offsets[damaged]);
      expect(readAll(reader)).toEqual(offsets.slice(0, damaged));
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
    writeFileSync(join(dir, RECOVERY_POINT_FILE), stale);
    const reader = await Journal.openForRead({ dir });
    try {
      expect(reader.head).toBe(fresh.at(-1)!.offset + RECORD_OVERHEAD + SIZE);
      const got = reader.readMany(fresh[0]!.offset, 400);
      expect(got.map((r) => r.offset)).toEqual(fresh.map((a) => a.offset));
      expect(got.every((r) => r.payload[0] === 7)).toBe(true);
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

  it('reads only records that reached the disk, every one intact, whatever the prefix it walked (12 power losses)', async () => {
    const rnd = seededRandom(24);
    let walked = 0;
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
      const prefix = loadRecoveryPoint(disk, dir, DEFAULT_MAX_PAYLOAD_BYTES).prefix;
      const { reader, calls } = await openCounting(dir, disk);
      try {
        if (prefix && calls < count / 2) walked++;
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
    expect(walked).toBeGreaterThan(0);
  });
});
