/**
 * Sequential reads with `verifyOnRead: 'crc'` read the file straight into
 * 124 KiB chunks and hand records out as views into them (recordChunks.ts);
 * `readFrom` is a written-out async iterator (recordIterator.ts). Here: what
 * they hand out is what was written, across chunk boundaries and with a
 * record larger than a chunk; records kept stay intact; a flipped bit in
 * any field of a record met through these paths (in a chunk's middle,
 * across a chunk's end, in the record larger than a chunk, the last record)
 * fails the read with WAL_CORRUPT_RECORD at its offset (a reader opened after
 * the damage too: its open takes the segment by the clean-close mark's last
 * record, and ends its log before the record only when that is the one
 * damaged), with runs checked in one native call and record by record; and a `readMany` returns no more than 4 MiB of records a call.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Journal, WalErrorCodes } from '../src/index.js';
import { fastChecksums, HEADER_SIZE, portableChecksums, RECORD_OVERHEAD, readManyContinuing, segmentName, setChecksums, type Checksums } from '../src/internals.js';
import { CHUNK_BYTES } from '../src/journal/recordChunks.js';
import { flipBitInPlace, payloadOf, readFromCollecting, tempDir, thrown } from './helpers.js';

/** Runs of records checked in one native call where it is built (native/recordRun.c), and record by record. */
const CHECKERS: Array<[string, Checksums]> = [
  [fastChecksums.verifyRun !== undefined ? 'runs checked natively' : 'native check not built: record by record', fastChecksums],
  ['record by record', portableChecksums],
];

interface Written {
  dir: string;
  payloads: Uint8Array[];
  offsets: number[];
  digests: Uint8Array[];
  head: number;
}

/** 1,400 records of 100-700 B (several chunks) with one of 300 KiB (larger than a chunk) in the middle, written by the writer and closed. */
async function written(): Promise<Written> {
  const dir = tempDir();
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < 1400; i++) payloads.push(payloadOf(i, i === 700 ? 300 * 1024 : 100 + ((i * 37) % 600)));
  const journal = await Journal.open({ dir, durability: 'none' });
  const offsets: number[] = [];
  const digests: Uint8Array[] = [];
  for (let i = 0; i < payloads.length; i += 100) {
    for (const a of await journal.appendBatch(payloads.slice(i, i + 100))) {
      offsets.push(a.offset);
      digests.push(a.blake3);
    }
  }
  const head = journal.head;
  await journal.close();
  return { dir, payloads, offsets, digests, head };
}


describe('chunked sequential reads', () => {
  it('hand out what was written, in order, across chunks and a record larger than a chunk; kept records stay intact', async () => {
    const w = await written();
    for (const open of [() => Journal.openForRead({ dir: w.dir }), () => Journal.open({ dir: w.dir })]) {
      const journal = await open();
      try {
        const kept: { offset: number; payload: Uint8Array; blake3: Uint8Array; next: number }[] = [];
        for (let pos = 0; ; ) {
          const batch = journal.readMany(pos, 97);
          if (batch.length === 0) break;
          kept.push(...batch);
          pos = batch[batch.length - 1]!.next;
        }
        expect(kept.map((r) => r.offset)).toEqual(w.offsets);
        kept.forEach((r, i) => {
          expect(Buffer.from(r.payload).equals(Buffer.from(w.payloads[i]!))).toBe(true);
          expect(Buffer.from(r.blake3).equals(Buffer.from(w.digests[i]!))).toBe(true);
          expect(r.next).toBe(w.offsets[i + 1] ?? w.head);
        });
        let i = 0;
        for await (const r of journal.readFrom(w.offsets[5]!)) {
          expect(r.offset).toBe(w.offsets[5 + i]);
          expect(Buffer.from(r.payload).equals(Buffer.from(w.payloads[5 + i]!))).toBe(true);
          i++;
        }
        expect(i).toBe(w.offsets.length - 5);
        // readMany from an offset inside the span of a chunk read before, and one record at a time
        expect(journal.readMany(w.offsets[3]!, 1)[0]!.offset).toBe(w.offsets[3]);
        expect(journal.readMany(w.offsets[701]!, 2).map((r) => r.offset)).toEqual([w.offsets[701], w.offsets[702]]);
      } finally {
        await journal.close();
      }
    }
    expect(w.head).toBeGreaterThan(3 * CHUNK_BYTES);
  });

  it('readFrom as an iterator: concurrent next() calls are served in order, return() ends it, an abort stops it, a bad offset rejects on the first next()', async () => {
    const w = await written();
    const journal = await Journal.openForRead({ dir: w.dir });
    try {
      const it = journal.readFrom(0);
      const got = await Promise.all([it.next(), it.next(), it.next()]);
      expect(got.map((g) => g.value && g.value.offset)).toEqual(w.offsets.slice(0, 3));
      expect(await it.return(undefined)).toEqual({ done: true, value: undefined });
      expect((await it.next()).done).toBe(true);

      const ac = new AbortController();
      let n = 0;
      for await (const r of journal.readFrom(0, { signal: ac.signal })) {
        expect(r.offset).toBe(w.offsets[n]);
        if (++n === 10) ac.abort();
      }
      expect(n).toBe(10);

      const bad = journal.readFrom(w.offsets[1]! + 1);
      await expect(bad.next()).rejects.toMatchObject({ code: WalErrorCodes.NotRecordBoundary });
      expect((await bad.next()).done).toBe(true);

      // following at the head: a waiting next() and one queued behind it both end when aborted
      const stop = new AbortController();
      const tail = journal.readFrom(w.head, { follow: true, signal: stop.signal });
      const waiting = [tail.next(), tail.next()];
      stop.abort();
      expect((await Promise.all(waiting)).map((r) => r.done)).toEqual([true, true]);
    } finally {
      await journal.close();
    }
  });

  // victims: inside the first chunk, the record that crosses the first chunk's end, the record larger than a chunk, the last record
  it.each(CHECKERS)('a flipped bit in any field, met by readFrom and readMany (reader and writer), fails with WAL_CORRUPT_RECORD at its offset (%s)', async (_name, impl) => {
    const previous = setChecksums(impl);
    onTestFinished(() => {
      setChecksums(previous);
    });
    const w = await written();
    const path = join(w.dir, segmentName(0));
    const positionOf = (i: number): number => w.offsets[i]! + HEADER_SIZE;
    const crossing = w.offsets.findIndex((o, i) => o + HEADER_SIZE < CHUNK_BYTES && (w.offsets[i + 1] ?? w.head) + HEADER_SIZE > CHUNK_BYTES);
    const victims = [17, crossing, 700, w.offsets.length - 1];
    for (const v of victims) {
      const size = RECORD_OVERHEAD + w.payloads[v]!.length;
      // every field: the length, the CRC32C, the BLAKE3 field, the payload's first, middle and last byte
      for (const k of [0, 2, 4, 7, 8, 20, 39, 40, 40 + (size - 40) / 2, size - 1].map(Math.floor)) {
        const bit = k % 8;
        const ctx = `byte ${k} of record ${v} (offset ${w.offsets[v]})`;
        // past the length field every flip is a CRC32C mismatch; a flipped length may first run past the bytes (torn)
        const damage = { code: WalErrorCodes.CorruptRecord, location: { offset: w.offsets[v], ...(k >= 4 ? { reason: 'crc-mismatch' } : {}) } };
        // a reader opened after the damage: the clean-close mark names the last record, so below it the
        // reader's head is the writer's and the read that meets the damage fails (docs/readers.md, "Refresh");
        // the last record damaged, the mark does not hold and the scan ends the log before it
        flipBitInPlace(path, positionOf(v) + k, bit);
        const late = await Journal.openForRead({ dir: w.dir });
        try {
          if (v === w.offsets.length - 1) expect(late.head, ctx).toBe(w.offsets[v]);
          else {
            expect(late.head, ctx).toBe(w.head);
            const seq = await readFromCollecting(late);
            expect(seq.offsets, ctx).toEqual(w.offsets.slice(0, v));
            expect(seq.error, ctx).toMatchObject(damage);
          }
        } finally {
          await late.close();
        }
        flipBitInPlace(path, positionOf(v) + k, bit);
        // a reader and the writer opened before it: media damage met later by the chunked reads
        for (const by of ['reader', 'writer'] as const) {
          const journal = by === 'reader' ? await Journal.openForRead({ dir: w.dir }) : await Journal.open({ dir: w.dir });
          flipBitInPlace(path, positionOf(v) + k, bit);
          try {
            const seq = await readFromCollecting(journal);
            expect(seq.offsets, ctx).toEqual(w.offsets.slice(0, v));
            if (by === 'reader' && v === w.offsets.length - 1 && seq.error === undefined) {
              // the header of the last record a reader saw changed: to a reader that is the writer rolling bytes
              // back, so it scans again and its log ends before the record (docs/readers.md, "Refresh")
              expect(journal.head, ctx).toBe(w.offsets[v]);
            } else {
              expect(seq.error, ctx).toMatchObject(damage);
              // a batch that meets the damage throws it; so does one that starts at the record, going on from the one before
              expect(thrown(() => journal.readMany(0, 2000)), ctx).toMatchObject(damage);
              expect(thrown(() => readManyContinuing(journal, w.offsets[v]!, 10)), ctx).toMatchObject(damage);
            }
            if (v > 0) expect(journal.readMany(w.offsets[v - 1]!, 1).map((r) => r.offset), ctx).toEqual([w.offsets[v - 1]]);
          } finally {
            await journal.close();
          }
          flipBitInPlace(path, positionOf(v) + k, bit);
        }
      }
    }
    const journal = await Journal.openForRead({ dir: w.dir });
    try {
      expect((await readFromCollecting(journal)).offsets).toEqual(w.offsets);
    } finally {
      await journal.close();
    }
  });
  it('a readMany returns no more than 4 MiB of records a call (at least one record); a loop reads every record, in order', async () => {
    const dir = tempDir();
    // durability immediate: each batch is published when its append resolves, so the reader sees them all
    const journal = await Journal.open({ dir });
    try {
      // 1,500 records of 4 KiB (6 MiB), then one of 5 MiB, then 10 small ones
      const payloads = [...Array.from({ length: 1500 }, (_, i) => payloadOf(i, 4096)), payloadOf(1500, 5 * 1024 * 1024), ...Array.from({ length: 10 }, (_, i) => payloadOf(1501 + i, 50))];
      for (let i = 0; i < payloads.length; i += 100) await journal.appendBatch(payloads.slice(i, i + 100));
      const reader = await Journal.openForRead({ dir });
      const full = await Journal.openForRead({ dir, verifyOnRead: 'full' });
      try {
        for (const log of [journal, reader, full]) {
          const first = log.readMany(0, 5000);
          const bytes = first.at(-1)!.next;
          expect(first.length).toBeLessThan(1500);
          expect(bytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
          // the record that reaches 4 MiB is the last ('full' copies whole runs: up to a chunk more)
          expect(bytes).toBeLessThan(4 * 1024 * 1024 + (log === full ? CHUNK_BYTES : RECORD_OVERHEAD + 4096));
          // the large record alone passes the limit: it comes back, with what its chunk read holds after it
          const big = log.readMany(first.length === 1500 ? 0 : first.at(-1)!.next, 5000).at(-1)!;
          expect(big.offset).toBeGreaterThan(0);
          const read: Uint8Array[] = [];
          for (let pos = 0; ; ) {
            const batch = log.readMany(pos, 5000);
            if (batch.length === 0) break;
            for (const r of batch) read.push(r.payload);
            pos = batch.at(-1)!.next;
          }
          expect(read.length).toBe(payloads.length);
          read.forEach((p, i) => expect(Buffer.from(p).equals(Buffer.from(payloads[i]!)), `record ${i}`).toBe(true));
        }
      } finally {
        await reader.close();
        await full.close();
      }
    } finally {
      await journal.close();
    }
  });
});
