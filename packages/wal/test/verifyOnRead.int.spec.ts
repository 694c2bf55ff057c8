/**
 * What a read checks (FORMAT.md, "What a read checks"). By default
 * (`verifyOnRead: 'crc'`) a read checks each record's CRC32C, which covers
 * every other byte of the record: the length, the BLAKE3 field and the
 * payload. So a flipped bit in any field of a record fails every read that
 * meets it, in the middle of a sealed segment, in the last segment and
 * inside a run the read-ahead checked on the worker; sequential reads name
 * the record's offset. With `verifyOnRead: 'full'` the same reads also
 * recompute the BLAKE3, which is what catches a record whose digest is
 * wrong under a CRC that matches (no damage does that: a writer would).
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWalError, Journal, verifyJournal, WalErrorCodes, type VerifyOnRead } from '../src/index.js';
import { crc32cJs, HEADER_SIZE, RECORD_OVERHEAD, readRecordsAt } from '../src/internals.js';
import { flipBitInPlace, type LaidOutRecord, layoutOf, payloadOf, readFromCollecting, readyOffload, tempDir, thrown, writeJournal } from './helpers.js';

const SETTINGS: VerifyOnRead[] = ['crc', 'full'];


/** Which field of a record byte `k` belongs to (FORMAT.md, "Record"). */
function field(k: number): string {
  return k < 4 ? 'payload_len' : k < 8 ? 'crc32c' : k < RECORD_OVERHEAD ? 'blake3' : 'payload';
}


/**
 * For each flipped bit of `victim`: every read that meets it fails, the
 * sequential ones with WAL_CORRUPT_RECORD at its offset, after every record
 * before it; then the bit is flipped back and the same reads succeed.
 */
async function expectEveryFlipFails(
  dir: string,
  names: string[],
  records: LaidOutRecord[],
  victim: LaidOutRecord,
  setting: VerifyOnRead,
  bits: (k: number) => number[],
  by: 'reader' | 'writer' = 'reader',
): Promise<number> {
  const path = join(dir, names[victim.segment]!);
  const base = records.find((r) => r.segment === victim.segment)!.offset;
  const before = records.filter((r) => r.segment === victim.segment && r.offset < victim.offset).map((r) => r.offset);
  let flips = 0;
  for (let k = 0; k < victim.size; k++) {
    for (const bit of bits(k)) {
      const ctx = `${setting}: bit ${bit} of byte ${k} (${field(k)}) of the record at ${victim.offset}`;
      // a reader opened after the damage; the writer before it (its recovery would cut damage from
      // the last segment, as a reader takes it for the end of a torn log): media damage met later
      if (by === 'reader') flipBitInPlace(path, victim.position + k, bit);
      const journal = by === 'reader' ? await Journal.openForRead({ dir, verifyOnRead: setting }) : await Journal.open({ dir, verifyOnRead: setting });
      if (by === 'writer') flipBitInPlace(path, victim.position + k, bit);
      try {
        const seq = await readFromCollecting(journal, base);
        expect(seq.offsets, ctx).toEqual(before);
        expect(seq.error, ctx).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset } });
        // by offset: the record is refused (off a segment's base, as a possible wrong offset)
        expect(isWalError(thrown(() => journal.read(victim.offset))), ctx).toBe(true);
        // by offsets an index knows: damage, named
        const damage = { code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset } };
        expect(thrown(() => readRecordsAt(journal, [victim.offset], () => undefined)), ctx).toMatchObject(damage);
        expect(thrown(() => readRecordsAt(journal, [...before, victim.offset], () => undefined)), ctx).toMatchObject(damage);
      } finally {
        await journal.close();
      }
      flipBitInPlace(path, victim.position + k, bit);
      flips++;
    }
  }
  const journal = await Journal.openForRead({ dir, verifyOnRead: setting });
  try {
    expect((await readFromCollecting(journal, base)).error).toBeUndefined();
    expect(journal.read(victim.offset)?.offset).toBe(victim.offset);
  } finally {
    await journal.close();
  }
  return flips;
}

describe('what a read checks: a flipped bit in any field of a record fails the read', () => {
  const segments = [
    [payloadOf(0, 30), payloadOf(1, 16), payloadOf(2, 45)],
    [payloadOf(3, 20), payloadOf(4, 16), payloadOf(5, 7)],
  ];
  const { records, names } = layoutOf(segments);
  const all = (): number[] => [0, 1, 2, 3, 4, 5, 6, 7];

  for (const setting of SETTINGS) {
    it(`in the middle of a sealed segment, every bit of every field (${setting})`, async () => {
      const dir = tempDir();
      writeJournal(dir, segments);
      const flips = await expectEveryFlipFails(dir, names, records, records[1]!, setting, all);
      expect(flips).toBe(records[1]!.size * 8);
    });

    it(`in the last segment, met by the writer, every field (${setting})`, async () => {
      const dir = tempDir();
      writeJournal(dir, segments);
      await expectEveryFlipFails(dir, names, records, records[4]!, setting, (k) => [k % 8, (k + 3) % 8], 'writer');
    });
  }

  it('inside a run read ahead and checked on the worker (full), one bit of every byte', async (ctx) => {
    const offload = readyOffload(ctx);
    // 700 records of 200 B: past the first batch of 256, the reads come from runs read ahead
    const big = [Array.from({ length: 700 }, (_, i) => payloadOf(i, 200)), [payloadOf(999, 10)]];
    const layout = layoutOf(big);
    const dir = tempDir();
    writeJournal(dir, big);
    const victim = layout.records[400]!;
    const jobs = offload.jobs;
    await expectEveryFlipFails(dir, layout.names, layout.records, victim, 'full', (k) => [k % 8]);
    expect(offload.jobs - jobs, 'nothing was read ahead').toBeGreaterThan(0);
    // 'crc' checks on the reading thread: the worker's part (the BLAKE3) is not wanted
    const crc = await Journal.openForRead({ dir });
    try {
      const before = offload.jobs;
      expect((await readFromCollecting(crc, 0)).offsets).toHaveLength(701);
      expect(offload.jobs).toBe(before);
    } finally {
      await crc.close();
    }
  });
});

describe("a wrong digest under a matching CRC: what 'full' adds", () => {
  it("'crc' reads the record as stored; 'full' and verify refuse it with blake3-mismatch", async () => {
    const segments = [[payloadOf(0, 30), payloadOf(1, 16), payloadOf(2, 45)], [payloadOf(3, 20)]];
    const { records, names } = layoutOf(segments);
    const dir = tempDir();
    writeJournal(dir, segments);
    const victim = records[1]!;
    const path = join(dir, names[0]!);
    // a digest bit flipped and the CRC recomputed over it: no random damage does this, a faulty writer would
    flipBitInPlace(path, victim.position + 8, 0);
    const fd = openSync(path, 'r+');
    const rec = Buffer.alloc(victim.size);
    readSync(fd, rec, 0, victim.size, victim.position);
    rec.writeUInt32LE(crc32cJs(rec, 8, victim.size, crc32cJs(rec, 0, 4, 0)), 4);
    writeSync(fd, rec, 4, 4, victim.position + 4);
    closeSync(fd);

    const crc = await Journal.openForRead({ dir });
    try {
      expect(Buffer.from(crc.read(victim.offset)!.payload).equals(Buffer.from(victim.payload))).toBe(true);
      expect((await readFromCollecting(crc, 0)).error).toBeUndefined();
    } finally {
      await crc.close();
    }
    const full = await Journal.openForRead({ dir, verifyOnRead: 'full' });
    try {
      const seq = await readFromCollecting(full, 0);
      expect(seq.offsets).toEqual([records[0]!.offset]);
      expect(seq.error).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset, reason: 'blake3-mismatch' } });
      expect(isWalError(thrown(() => full.read(victim.offset)))).toBe(true);
      expect(thrown(() => readRecordsAt(full, [victim.offset], () => undefined))).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset, reason: 'blake3-mismatch' } });
    } finally {
      await full.close();
    }
    expect(verifyJournal(dir).problems).toMatchObject([{ offset: victim.offset, reason: 'blake3-mismatch' }]);
    expect(HEADER_SIZE).toBe(records[0]!.position);
  });

  it('verifyOnRead takes only the two settings, with a typed error and nothing opened', async () => {
    const dir = tempDir();
    writeJournal(dir, [[payloadOf(0, 3)]]);
    for (const bad of ['CRC', 'none', true, 1, null]) {
      await expect(Journal.openForRead({ dir, verifyOnRead: bad as never })).rejects.toMatchObject({ code: WalErrorCodes.InvalidArgument });
      await expect(Journal.open({ dir, verifyOnRead: bad as never })).rejects.toMatchObject({ code: WalErrorCodes.InvalidArgument });
    }
  });
});
