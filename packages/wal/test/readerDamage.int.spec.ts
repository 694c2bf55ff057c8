/**
 * What a reader says about damage it meets. A segment's base is a record
 * boundary whatever its bytes say, so a record there that does not decode is
 * reported as damage (CorruptRecordError with its reason), not as a caller's
 * offset off a record boundary; and a sealed segment that ends before the
 * next one's base means a segment is missing, which is reported as the gap
 * (as `verify` does), not as a torn header at the end of the earlier file.
 * Reading changes nothing on disk.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes } from '../src/index.js';
import { HEADER_SIZE } from '../src/internals.js';
import { flipBit, payloadOf, readFromCollecting, snapshotDir, tempDir, thrown, writeJournal } from './helpers.js';

describe('a reader meeting damage', () => {
  for (const reader of [true, false]) {
    it(`the first record of a sealed segment damaged: readFrom and read name the damage (${reader ? 'reader' : 'writer'})`, async () => {
      const dir = tempDir();
      const { offsets, names } = writeJournal(dir, [[payloadOf(0, 100), payloadOf(1, 100)], [payloadOf(2, 100), payloadOf(3, 100)], [payloadOf(4, 100)]]);
      // the first record of the second (sealed) segment: its payload, so the CRC no longer matches
      flipBit(join(dir, names[1]!), HEADER_SIZE + 40 + 5, 0);
      const journal = reader ? await Journal.openForRead({ dir }) : await Journal.open({ dir, scanSealedOnOpen: false });
      const before = snapshotDir(dir);
      try {
        const damage = { code: WalErrorCodes.CorruptRecord, location: { segment: names[1], position: HEADER_SIZE, offset: offsets[2], reason: 'crc-mismatch' } };
        expect((await readFromCollecting(journal, offsets[2]!)).error).toMatchObject(damage);
        expect(thrown(() => journal.read(offsets[2]!))).toMatchObject(damage);
        // from earlier: the records before it, then the same damage
        expect(await readFromCollecting(journal, 0)).toMatchObject({ offsets: [offsets[0], offsets[1]], error: damage });
        // an offset inside a record is still the caller's mistake
        expect((await readFromCollecting(journal, offsets[2]! + 3)).error).toMatchObject({ code: WalErrorCodes.NotRecordBoundary });
      } finally {
        await journal.close();
      }
      if (reader) expect(snapshotDir(dir)).toEqual(before);
    });
  }

  it('a missing middle segment: the records before it, then the gap, naming both neighbours (not a torn header)', async () => {
    const dir = tempDir();
    const { offsets, names } = writeJournal(dir, [[payloadOf(0, 100)], [payloadOf(1, 100)], [payloadOf(2, 100)]]);
    rmSync(join(dir, names[1]!));
    const before = snapshotDir(dir);
    const journal = await Journal.openForRead({ dir });
    try {
      const { offsets: read, error } = await readFromCollecting(journal, 0);
      expect(read).toEqual([offsets[0]]);
      expect(error).toMatchObject({
        code: WalErrorCodes.CorruptRecord,
        location: { segment: names[0], offset: offsets[1], reason: 'segment-gap' },
        message: expect.stringContaining(`${names[0]} ends at offset ${offsets[1]} but the next segment, ${names[2]}, starts at ${offsets[2]}: the segment between them is missing`),
      });
      expect(thrown(() => journal.read(offsets[1]!))).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { reason: 'segment-gap' } });
    } finally {
      await journal.close();
    }
    expect(snapshotDir(dir)).toEqual(before);
  });
});
