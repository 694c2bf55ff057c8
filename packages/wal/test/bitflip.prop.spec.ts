import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWalError, QuarantineError, recoverJournal, verifyJournal, WalErrorCodes, type CutReason } from '../src/index.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, encodeSegmentHeader, HEADER_SIZE, QUARANTINE_DIR, RECORD_OVERHEAD } from '../src/internals.js';
import {
  holdsCut,
  noSyncIO,
  layoutOf,
  payloadOf,
  QUARANTINE_FILE_NAME,
  quarantineFiles,
  readLog,
  snapshotDir,
  tempDir,
  thrown,
  writeJournal,
  type LaidOutRecord,
} from './helpers.js';

/**
 * The reason FORMAT.md's validity rule gives for a record whose byte `k`
 * (from the record start) had bit `bit` flipped: a flipped length is checked
 * against the limit, then the file bounds, and then the CRC32C (which covers
 * every byte but itself) catches it; any other flipped byte is a CRC mismatch.
 */
function expectedReason(rec: LaidOutRecord, segmentSize: number, k: number, bit: number, max = DEFAULT_MAX_PAYLOAD_BYTES): CutReason {
  if (k >= 4) return 'crc-mismatch';
  const n = (rec.payload.length ^ (1 << (8 * k + bit))) >>> 0;
  if (n > max) return 'length-over-limit';
  if (rec.position + RECORD_OVERHEAD + n > segmentSize) return 'torn-payload';
  return 'crc-mismatch';
}

/** Materialises a journal once, then hands out fresh copies of its files. */
function journal(segments: Uint8Array[][], firstBase: number) {
  const layout = layoutOf(segments, firstBase);
  const src = tempDir();
  writeJournal(src, segments, firstBase);
  const files = layout.names.map((n) => readFileSync(join(src, n)));
  let work: string | undefined;
  return {
    ...layout,
    files,
    /**
     * A directory holding the journal with bit `bit` of byte `byte` of segment
     * `seg` flipped. The same directory is reused (emptied first): thousands of
     * temp directories cost more than the recoveries.
     */
    flipped(seg: number, byte: number, bit: number): { dir: string; bytes: Buffer } {
      // a fresh temp directory per test (tempDir removes it after the test), emptied between flips
      if (work === undefined || !existsSync(work)) work = tempDir();
      const dir = work;
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
      let bytes = files[seg]!;
      files.forEach((f, i) => {
        const copy = Buffer.from(f);
        if (i === seg) {
          copy[byte]! ^= 1 << bit;
          bytes = copy;
        }
        writeFileSync(join(dir, layout.names[i]!), copy);
      });
      return { dir, bytes };
    },
  };
}

describe('every single-bit flip in a record of the last segment is detected and cut', () => {
  const j = journal(
    [
      [payloadOf(1, 7), payloadOf(2, 0)],
      [payloadOf(3, 0), payloadOf(4, 6), payloadOf(5, 0)],
    ],
    4000,
  );
  const last = 1;
  const lastRecords = j.records.filter((r) => r.segment === last);
  const size = j.sizes[last]!;

  it('cuts at the flipped record, keeps every record before it and quarantines exactly the cut bytes (exhaustive over every bit)', () => {
    let flips = 0;
    for (const rec of lastRecords) {
      const after = lastRecords.filter((r) => r.position > rec.position).length;
      const kept = j.records.filter((r) => r.segment < last || r.position < rec.position);
      for (let k = 0; k < rec.size; k++) {
        for (let bit = 0; bit < 8; bit++) {
          const ctx = `flip bit ${bit} of byte ${rec.position + k} (record at ${rec.position}, byte ${k})`;
          const { dir, bytes } = j.flipped(last, rec.position + k, bit);
          const report = recoverJournal(dir, { io: noSyncIO });
          expect(report.cuts, ctx).toEqual([
            {
              segment: j.names[last],
              position: rec.position,
              offset: rec.offset,
              reason: expectedReason(rec, size, k, bit),
              bytes: size - rec.position,
              quarantine: expect.stringMatching(/^quarantine\//),
              // records after the flipped one are intact: media corruption, not a torn write
              wellFormedRecordsInCut: after,
            },
          ]);
          expect(report.head, ctx).toBe(rec.offset);
          const q = quarantineFiles(dir);
          expect([...q.keys()], ctx).toEqual([report.cuts[0]!.quarantine.slice(QUARANTINE_DIR.length + 1)]);
          const [qname, qbytes] = [...q][0]!;
          expect(qname).toMatch(QUARANTINE_FILE_NAME);
          expect(holdsCut(qbytes, bytes.subarray(rec.position)), ctx).toBe(true);
          expect(readFileSync(join(dir, j.names[last]!)).equals(bytes.subarray(0, rec.position)), ctx).toBe(true);
          expect(readFileSync(join(dir, j.names[0]!)).equals(j.files[0]!), ctx).toBe(true);
          const log = readLog(dir);
          expect(log.map((r) => r.offset), ctx).toEqual(kept.map((r) => r.offset));
          log.forEach((r, i) => expect(Buffer.from(r.payload).equals(Buffer.from(kept[i]!.payload)), ctx).toBe(true));
          expect(recoverJournal(dir, { io: noSyncIO }).cuts, ctx).toEqual([]);
          flips++;
        }
      }
    }
    expect(flips).toBe((size - HEADER_SIZE) * 8);
  });

  it('a flip in the header of the last segment is a QuarantineError and changes nothing (exhaustive over the header bits)', () => {
    for (let byte = 0; byte < HEADER_SIZE; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const { dir } = j.flipped(last, byte, bit);
        const before = snapshotDir(dir);
        const err = thrown(() => recoverJournal(dir, { io: noSyncIO }));
        expect(err, `header byte ${byte} bit ${bit}`).toBeInstanceOf(QuarantineError);
        expect(err).toMatchObject({ code: 'WAL_QUARANTINE', segment: j.names[last], position: 0, offset: j.bases[last], reason: 'bad-segment-header' });
        expect(snapshotDir(dir)).toEqual(before);
      }
    }
  });
});

describe('every single-bit flip in a sealed segment is refused with a QuarantineError and changes nothing', () => {
  const j = journal(
    [
      [payloadOf(1, 0), payloadOf(2, 6)],
      [payloadOf(4, 3)],
    ],
    1000,
  );
  const sealed = 0;
  const sealedRecords = j.records.filter((r) => r.segment === sealed);
  const size = j.sizes[sealed]!;

  /** Where FORMAT.md says the damage is: the header (position 0) or the start of the flipped record. */
  function damageAt(byte: number, bit: number): { position: number; offset: number; reason: CutReason; rec?: LaidOutRecord } {
    if (byte < HEADER_SIZE) return { position: 0, offset: j.bases[sealed]!, reason: 'bad-segment-header' };
    const rec = sealedRecords.find((r) => byte >= r.position && byte < r.position + r.size)!;
    return { position: rec.position, offset: rec.offset, reason: expectedReason(rec, size, byte - rec.position, bit), rec };
  }

  it('recovery and verification report the segment, position, offset and reason, and every byte on disk stays the same (exhaustive over header and record bits)', () => {
    let flips = 0;
    for (let byte = 0; byte < size; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const ctx = `flip bit ${bit} of byte ${byte} of the sealed segment`;
        const { dir } = j.flipped(sealed, byte, bit);
        const want = damageAt(byte, bit);
        const before = snapshotDir(dir);

        const err = thrown(() => recoverJournal(dir, { io: noSyncIO }));
        expect(err, ctx).toBeInstanceOf(QuarantineError);
        expect(isWalError(err, WalErrorCodes.Quarantine)).toBe(true);
        expect(err, ctx).toMatchObject({ code: 'WAL_QUARANTINE', segment: j.names[sealed], position: want.position, offset: want.offset, reason: want.reason });
        expect(snapshotDir(dir), ctx).toEqual(before);
        expect(existsSync(join(dir, QUARANTINE_DIR)), ctx).toBe(false);

        const verify = verifyJournal(dir);
        expect(verify.ok, ctx).toBe(false);
        expect(verify.problems.map(({ segment, position, offset, reason }) => ({ segment, position, offset, reason })), ctx).toEqual([
          { segment: j.names[sealed], position: want.position, offset: want.offset, reason: want.reason },
        ]);
        expect(snapshotDir(dir), ctx).toEqual(before);
        flips++;
      }
    }
    expect(flips).toBe(size * 8);
  });

  it('an explicit repair quarantines from the damaged record to the end of the log and leaves a valid prefix (one bit of every byte)', () => {
    const after = j.names.slice(sealed + 1);
    for (let byte = 0; byte < size; byte++) {
      const bit = byte % 8;
      const ctx = `repair after flipping bit ${bit} of byte ${byte}`;
      const { dir, bytes } = j.flipped(sealed, byte, bit);
      const want = damageAt(byte, bit);
      const report = recoverJournal(dir, { repair: true, io: noSyncIO });
      expect(report.repaired, ctx).toBe(true);
      expect(report.head, ctx).toBe(want.offset);
      const laterCuts = after.map((name, i) => ({
        segment: name,
        position: 0,
        offset: j.bases[sealed + 1 + i],
        reason: 'after-cut',
        bytes: j.sizes[sealed + 1 + i],
        quarantine: expect.any(String),
        wellFormedRecordsInCut: j.records.filter((r) => r.segment === sealed + 1 + i).length,
      }));
      const recordsAfter = sealedRecords.filter((r) => r.position > want.position).length;
      expect(report.cuts, ctx).toEqual([
        {
          segment: j.names[sealed],
          position: want.position,
          offset: want.offset,
          reason: want.reason,
          bytes: size - want.position,
          quarantine: expect.any(String),
          wellFormedRecordsInCut: want.rec ? recordsAfter : sealedRecords.length,
        },
        ...laterCuts,
      ]);
      const q = quarantineFiles(dir);
      expect(q.size, ctx).toBe(report.cuts.length);
      expect(holdsCut(q.get(report.cuts[0]!.quarantine.slice(QUARANTINE_DIR.length + 1))!, bytes.subarray(want.position)), ctx).toBe(true);
      after.forEach((_, i) => {
        expect(q.get(report.cuts[i + 1]!.quarantine.slice(QUARANTINE_DIR.length + 1))!.equals(j.files[sealed + 1 + i]!), ctx).toBe(true);
      });
      const kept = j.records.filter((r) => r.segment === sealed && r.position < want.position);
      expect(readLog(dir).map((r) => r.offset), ctx).toEqual(kept.map((r) => r.offset));
      if (want.position === 0) {
        // Nothing of the first segment survives: an empty segment where the log began.
        expect(readFileSync(join(dir, j.names[sealed]!)).equals(Buffer.from(encodeSegmentHeader(j.bases[sealed]!))), ctx).toBe(true);
      } else {
        expect(readFileSync(join(dir, j.names[sealed]!)).equals(bytes.subarray(0, want.position)), ctx).toBe(true);
      }
      expect(recoverJournal(dir, { io: noSyncIO }).cuts, ctx).toEqual([]);
      expect(verifyJournal(dir).ok, ctx).toBe(true);
    }
  });
});
