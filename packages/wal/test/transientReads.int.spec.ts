/**
 * Transient reads (`readFrom(offset, { transient: true })`,
 * `readMany(offset, n, { transient: true })`): the records are views into
 * one buffer that the next step reads over. Each record holds its own bytes
 * until then, the reads hand out every record in order, a kept record is
 * overwritten later (as documented), records of ordinary reads are never
 * touched by them, and every record is still checked: a flipped bit in any
 * field fails the read that meets it with WAL_CORRUPT_RECORD naming the
 * record's offset.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, type JournalRecord, type LogReader } from '../src/index.js';
import { RECORD_OVERHEAD } from '../src/internals.js';
import { flipBitInPlace, layoutOf, payloadOf, tempDir, withoutChecksumOffload, writeJournal, type LaidOutRecord } from './helpers.js';

/** 3,000 B records: 41 of them fill the 124 KiB read buffer, so 200 need five fills. */
const BIG = [Array.from({ length: 200 }, (_, i) => payloadOf(i, 3000)), [payloadOf(200, 40), payloadOf(201, 5)]];

async function journalOf(segments: Uint8Array[][]): Promise<string> {
  const dir = tempDir();
  writeJournal(dir, segments);
  return dir;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** Offsets read with a transient `readMany` loop until the head or an error. */
function readManyTransient(journal: Pick<LogReader, 'readMany'>, from: number, check?: (r: JournalRecord, i: number) => void): { offsets: number[]; error: unknown } {
  const offsets: number[] = [];
  try {
    for (let pos = from; ; ) {
      const batch = journal.readMany(pos, 100, { transient: true });
      if (batch.length === 0) return { offsets, error: undefined };
      for (const r of batch) {
        check?.(r, offsets.length);
        offsets.push(r.offset);
      }
      pos = batch[batch.length - 1]!.next;
    }
  } catch (error) {
    return { offsets, error };
  }
}

async function readFromTransient(journal: Pick<LogReader, 'readFrom'>, from: number): Promise<{ offsets: number[]; error: unknown }> {
  const offsets: number[] = [];
  try {
    for await (const r of journal.readFrom(from, { transient: true })) offsets.push(r.offset);
  } catch (error) {
    return { offsets, error };
  }
  return { offsets, error: undefined };
}

describe('transient reads', () => {
  it('hand out every record in order with its own bytes at its step', async () => {
    const dir = await journalOf(BIG);
    const payloads = BIG.flat();
    for (const open of [() => Journal.openForRead({ dir }), () => Journal.open({ dir })]) {
      const journal = await open();
      try {
        let i = 0;
        for await (const r of journal.readFrom(0, { transient: true })) {
          expect(same(r.payload, payloads[i]!), `record ${i}`).toBe(true);
          i++;
        }
        expect(i).toBe(payloads.length);
        const got = readManyTransient(journal, 0, (r, k) => expect(same(r.payload, payloads[k]!), `record ${k}`).toBe(true));
        expect(got.error).toBeUndefined();
        expect(got.offsets).toHaveLength(payloads.length);
      } finally {
        await journal.close();
      }
    }
  });

  it('a transient readMany stops where the buffer ends, short of maxRecords, and goes on from there', async () => {
    const dir = await journalOf(BIG);
    const journal = await Journal.openForRead({ dir });
    try {
      const first = journal.readMany(0, 1000, { transient: true });
      expect(first.length).toBeGreaterThan(0);
      expect(first.length).toBeLessThan(200); // 200 records of 3 KiB do not fit one 124 KiB buffer
      const rest = journal.readMany(first[first.length - 1]!.next, 1000, { transient: true });
      expect(rest[0]!.offset).toBe(first[first.length - 1]!.next);
    } finally {
      await journal.close();
    }
  });

  it('a record kept past its step is overwritten (documented), records of ordinary reads are not', async () => {
    const dir = await journalOf(BIG);
    const payloads = BIG.flat();
    const journal = await Journal.openForRead({ dir });
    try {
      const ordinary = journal.readMany(0, 5);
      let kept: Uint8Array | undefined;
      for await (const r of journal.readFrom(0, { transient: true })) kept ??= r.payload;
      expect(same(kept!, payloads[0]!), 'the buffer was read over').toBe(false);

      // the checksum worker off: no read-ahead, whose two buffers of its own take turns (readAhead.int.spec.ts)
      withoutChecksumOffload(() => {
        const batch = journal.readMany(0, 10, { transient: true });
        const keptMany = batch[0]!.payload;
        expect(same(keptMany, payloads[0]!)).toBe(true);
        for (let pos = batch[batch.length - 1]!.next, n = 0; n < 3; n++) {
          const next = journal.readMany(pos, 100, { transient: true });
          pos = next[next.length - 1]!.next;
        }
        expect(same(keptMany, payloads[0]!), 'the handle buffer was read over').toBe(false);
      });

      ordinary.forEach((r, i) => expect(same(r.payload, payloads[i]!)).toBe(true));
    } finally {
      await journal.close();
    }
  });

  describe('a flipped bit in any field fails the read with WAL_CORRUPT_RECORD at the offset', () => {
    const fieldStarts = [0, 3, 4, 7, 8, 39, RECORD_OVERHEAD, RECORD_OVERHEAD + 1];

    async function expectFlipsFail(segments: Uint8Array[][], victimIndex: number, by: 'reader' | 'writer', bytes: number[]): Promise<void> {
      const dir = await journalOf(segments);
      const { records, names } = layoutOf(segments);
      const victim: LaidOutRecord = records[victimIndex]!;
      const path = join(dir, names[victim.segment]!);
      const before = records.filter((r) => r.offset < victim.offset).map((r) => r.offset);
      for (const k of [...bytes, victim.size - 1]) {
        const ctx = `byte ${k} of the record at ${victim.offset} (by the ${by})`;
        if (by === 'reader') flipBitInPlace(path, victim.position + k, k % 8);
        const journal = by === 'reader' ? await Journal.openForRead({ dir }) : await Journal.open({ dir });
        if (by === 'writer') flipBitInPlace(path, victim.position + k, k % 8);
        try {
          const damage = { code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset } };
          const seq = await readFromTransient(journal, 0);
          expect(seq.offsets, ctx).toEqual(before);
          expect(seq.error, ctx).toMatchObject(damage);
          const many = readManyTransient(journal, 0);
          expect(many.offsets, ctx).toEqual(before);
          expect(many.error, ctx).toMatchObject(damage);
        } finally {
          await journal.close();
        }
        flipBitInPlace(path, victim.position + k, k % 8);
      }
      const journal = await Journal.openForRead({ dir });
      try {
        expect((await readFromTransient(journal, 0)).offsets).toHaveLength(records.length);
      } finally {
        await journal.close();
      }
    }

    it('in the middle of a sealed segment, past two fills of the buffer', async () => {
      await expectFlipsFail(BIG, 180, 'reader', fieldStarts);
    });

    it('in the last segment, met by the writer', async () => {
      const segments = [[payloadOf(0, 30), payloadOf(1, 16)], [payloadOf(2, 20), payloadOf(3, 16), payloadOf(4, 7)]];
      await expectFlipsFail(segments, 3, 'writer', fieldStarts);
    });
  });
});
