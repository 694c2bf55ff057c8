/**
 * visitRecords (@episteme/wal/internals): readMany's records handed to a
 * visitor where they were read, without a copy or an object per record.
 * It must visit exactly what readMany returns, with both read settings,
 * across segments and batches; visit the records before damage and then
 * throw what readMany / readFrom throw there; and let the visitor's own
 * errors through as they are.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Journal, WalErrorCodes, type VerifyOnRead } from '../src/index.js';
import { fastChecksums, HEADER_SIZE, portableChecksums, RECORD_OVERHEAD, setChecksums, visitRecords, type Checksums } from '../src/internals.js';
import { flipBit, payloadOf, tempDir, thrown, writeJournal } from './helpers.js';

/** Every record from `from` through visitRecords in calls of `batch`, as readMany would give them. */
function visitAll(journal: Journal, from: number, batch: number): { offsets: number[]; payloads: string[]; error?: unknown } {
  const offsets: number[] = [];
  const payloads: string[] = [];
  let pos = from;
  try {
    for (let first = true; pos < journal.head; first = false) {
      const next = visitRecords(journal, pos, batch, !first, (bytes, at, length, offset) => {
        offsets.push(offset);
        payloads.push(Buffer.from(bytes.subarray(at, at + length)).toString('hex'));
      });
      if (next === pos) break;
      pos = next;
    }
  } catch (error) {
    return { offsets, payloads, error };
  }
  return { offsets, payloads };
}

function segmentsOf(count: number, perSegment: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i < count; i += perSegment) out.push(Array.from({ length: Math.min(perSegment, count - i) }, (_, k) => payloadOf(i + k, 20 + ((i + k) % 300))));
  return out;
}

describe('visitRecords', () => {
  for (const setting of ['crc', 'full'] as VerifyOnRead[]) {
    it(`visits what readMany returns, over batches and segments, from any record (${setting})`, async () => {
      const dir = tempDir();
      const segments = segmentsOf(2000, 700);
      const { offsets } = writeJournal(dir, segments);
      const journal = await Journal.open({ dir, verifyOnRead: setting });
      try {
        const all = journal.readMany(0, 10_000);
        expect(all).toHaveLength(2000);
        const want = { offsets: all.map((r) => r.offset), payloads: all.map((r) => Buffer.from(r.payload).toString('hex')) };
        for (const batch of [1, 7, 256, 5000]) expect(visitAll(journal, 0, batch), `batches of ${batch}`).toEqual(want);
        const mid = visitAll(journal, offsets[1234]!, 256);
        expect(mid.offsets).toEqual(want.offsets.slice(1234));
        // the return value is the next record's offset; at the head nothing is visited
        let n = 0;
        expect(visitRecords(journal, offsets[10]!, 3, false, () => void n++)).toBe(offsets[13]);
        expect(n).toBe(3);
        expect(visitRecords(journal, journal.head, 3, false, () => void n++)).toBe(journal.head);
        expect(visitRecords(journal, 0, 0, false, () => void n++)).toBe(0);
        expect(n).toBe(3);
      } finally {
        await journal.close();
      }
    });
  }

  it('visits the records before damage, then throws what readFrom throws there; off a boundary is the caller\'s mistake', async () => {
    const dir = tempDir();
    const segments = segmentsOf(1500, 700);
    const { offsets, names } = writeJournal(dir, segments);
    // a payload byte of record 900 (segment 1, not its base), in a sealed segment
    flipBit(join(dir, names[1]!), HEADER_SIZE + (offsets[900]! - offsets[700]!) + RECORD_OVERHEAD + 1, 2);
    const journal = await Journal.open({ dir, scanSealedOnOpen: false });
    try {
      const got = visitAll(journal, 0, 256);
      expect(got.offsets).toEqual(offsets.slice(0, 900));
      expect(got.error).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: offsets[900], reason: 'crc-mismatch' } });
      // starting at the damaged record: continuing, it is damage; fresh, it may be a wrong offset
      expect(thrown(() => visitRecords(journal, offsets[900]!, 10, true, () => undefined))).toMatchObject({ code: WalErrorCodes.CorruptRecord });
      expect(thrown(() => visitRecords(journal, offsets[900]!, 10, false, () => undefined))).toMatchObject({ code: WalErrorCodes.NotRecordBoundary });
      expect(thrown(() => visitRecords(journal, offsets[5]! + 1, 10, false, () => undefined))).toMatchObject({ code: WalErrorCodes.NotRecordBoundary });
      expect(thrown(() => visitRecords(journal, -1, 10, false, () => undefined))).toMatchObject({ code: WalErrorCodes.InvalidArgument });
      expect(thrown(() => visitRecords(journal, 0, -1, false, () => undefined))).toMatchObject({ code: WalErrorCodes.InvalidArgument });
      expect(thrown(() => visitRecords(journal, journal.head + 1, 10, false, () => undefined))).toMatchObject({ code: WalErrorCodes.OffsetOutOfRange });
    } finally {
      await journal.close();
    }
  });

  it.each([
    [fastChecksums.verifyRun !== undefined ? 'runs checked natively' : 'native check not built: record by record', fastChecksums],
    ['record by record', portableChecksums],
  ] as Array<[string, Checksums]>)('a flipped bit in any field of a record stops the visit there with WAL_CORRUPT_RECORD at its offset (%s)', async (_name, impl) => {
    const previous = setChecksums(impl);
    onTestFinished(() => {
      setChecksums(previous);
    });
    // small sealed segments; and one segment of ~2.5 MiB, past the reader's 1 MiB window, damaged past its first MiB
    for (const [count, perSegment, victim, batch] of [[1500, 700, 900, 256], [12_000, 11_000, 9_000, 256], [12_000, 11_000, 9_000, 1]] as const) {
      const dir = tempDir();
      const { offsets, names } = writeJournal(dir, segmentsOf(count, perSegment));
      const segment = Math.floor(victim / perSegment);
      const path = join(dir, names[segment]!);
      const at = HEADER_SIZE + (offsets[victim]! - offsets[segment * perSegment]!);
      const size = offsets[victim + 1]! - offsets[victim]!;
      if (perSegment > 1000) expect(at).toBeGreaterThan(1024 * 1024);
      // the length, the CRC32C, the BLAKE3 field, the payload's first, middle and last byte
      for (const k of [1, 5, 20, RECORD_OVERHEAD, RECORD_OVERHEAD + Math.floor((size - RECORD_OVERHEAD) / 2), size - 1]) {
        const ctx = `byte ${k} of record ${victim} of ${count}, batches of ${batch}`;
        flipBit(path, at + k, 3);
        const journal = await Journal.open({ dir, scanSealedOnOpen: false });
        try {
          const got = visitAll(journal, batch === 1 ? offsets[victim - 300]! : 0, batch);
          expect(got.offsets, ctx).toEqual(offsets.slice(batch === 1 ? victim - 300 : 0, victim));
          // a flipped length bit may make the record run past its segment: torn there, else the CRC32C fails
          const reason = k >= 4 ? 'crc-mismatch' : expect.stringMatching(/^(crc-mismatch|torn-payload)$/);
          expect(got.error, ctx).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: offsets[victim], reason } });
        } finally {
          await journal.close();
        }
        flipBit(path, at + k, 3);
      }
    }
  });

  it('bytes read again under a scan (a visitor reading the same reader) are checked again, not taken on the earlier check', async () => {
    const dir = tempDir();
    const { offsets, names } = writeJournal(dir, segmentsOf(1500, 700));
    const path = join(dir, names[1]!);
    const positionOf = (i: number): number => HEADER_SIZE + (offsets[i]! - offsets[700]!);
    const journal = await Journal.open({ dir, scanSealedOnOpen: false });
    try {
      const seen: number[] = [];
      const err = thrown(() =>
        visitRecords(journal, offsets[800]!, 100, true, (_b, _at, _len, offset) => {
          seen.push(offset);
          if (offset !== offsets[805]) return;
          // record 810 changes on disk after the outer scan checked it, and a read of the same reader
          // from an earlier record reads the window again: the outer scan meets the new bytes
          flipBit(path, positionOf(810) + RECORD_OVERHEAD + 3, 1);
          visitRecords(journal, offsets[750]!, 2, true, () => undefined);
        }),
      );
      expect(seen).toEqual(offsets.slice(800, 810));
      expect(err).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: offsets[810], reason: 'crc-mismatch' } });
    } finally {
      await journal.close();
    }
  });

  it("the visitor's errors stop the reading and reach the caller as they are", async () => {
    const dir = tempDir();
    const { offsets } = writeJournal(dir, segmentsOf(100, 100));
    for (const setting of ['crc', 'full'] as VerifyOnRead[]) {
      const journal = await Journal.open({ dir, verifyOnRead: setting });
      try {
        const mine = new Error('the visitor failed');
        const seen: number[] = [];
        const err = thrown(() =>
          visitRecords(journal, 0, 50, false, (_b, _a, _l, offset) => {
            seen.push(offset);
            if (seen.length === 5) throw mine;
          }),
        );
        expect(err).toBe(mine);
        expect(seen).toEqual(offsets.slice(0, 5));
        // and the journal reads on as before
        expect(visitAll(journal, 0, 30).offsets).toEqual(offsets);
      } finally {
        await journal.close();
      }
    }
  });
});
