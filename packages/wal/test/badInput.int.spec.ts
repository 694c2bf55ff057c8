import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuarantineError, recoverJournal, verifyJournal, type CutReason } from '../src/index.js';
import { countWellFormed, DEFAULT_MAX_PAYLOAD_BYTES, encodeRecord, encodeSegmentHeader, HEADER_SIZE, RECORD_OVERHEAD, scanSegment, segmentName } from '../src/internals.js';
import {
  holdsCut,
  isZero,
  layoutOf,
  payloadOf,
  quarantineFiles,
  snapshotDir,
  tempDir,
  writeJournal,
} from './helpers.js';
import { guarded, LOOP_GUARD, MiB } from './guarded.js';


/* ---------------------------------------------------------------------------
 * An independent model of FORMAT.md's record rule (bitwise CRC32C written
 * here from the definition, @noble/hashes BLAKE3), so that the outcome on
 * garbage is predicted, not just "did not crash".
 * ------------------------------------------------------------------------- */

function crc32c(data: Uint8Array, crc = 0): number {
  crc = ~crc >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Where the valid records of a segment's bytes stop, and why. */
function modelScan(seg: Uint8Array, max: number): { end: number; records: number; reason?: CutReason } {
  const dv = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  let p = HEADER_SIZE;
  let records = 0;
  while (p < seg.length) {
    if (p + RECORD_OVERHEAD > seg.length) return { end: p, records, reason: 'torn-header' };
    const n = dv.getUint32(p, true);
    if (n > max) return { end: p, records, reason: 'length-over-limit' };
    if (p + RECORD_OVERHEAD + n > seg.length) return { end: p, records, reason: 'torn-payload' };
    const crc = crc32c(seg.subarray(p + 8, p + RECORD_OVERHEAD + n), crc32c(seg.subarray(p, p + 4)));
    if (crc !== dv.getUint32(p + 4, true)) return { end: p, records, reason: 'crc-mismatch' };
    const digest = blake3(seg.subarray(p + RECORD_OVERHEAD, p + RECORD_OVERHEAD + n));
    if (!Buffer.from(digest).equals(Buffer.from(seg.subarray(p + 8, p + 40)))) return { end: p, records, reason: 'blake3-mismatch' };
    records++;
    p += RECORD_OVERHEAD + n;
  }
  return { end: p, records };
}

/**
 * Review finding F12: a record over the limit that is whole and verifies was
 * written under a larger limit; recovery refuses (MaxPayloadTooSmallError)
 * instead of cutting it.
 */
function validIgnoringLimit(seg: Uint8Array, position: number): boolean {
  return modelScan(Buffer.concat([new Uint8Array(HEADER_SIZE), seg.subarray(position)]), 0xffffffff).records > 0;
}

function headerIsValid(seg: Uint8Array, base: number): boolean {
  return seg.length >= HEADER_SIZE && Buffer.from(seg.subarray(0, HEADER_SIZE)).equals(Buffer.from(encodeSegmentHeader(base)));
}

/* ---------------------------------------------------------------------------
 * Garbage: random bytes, mixed with valid records, zero runs and runs of one
 * little-endian u32 (a plausible length at every 4th position, the shape of a
 * binary array payload).
 * ------------------------------------------------------------------------- */

function u32Run(value: number, count: number): Uint8Array {
  const out = new Uint8Array(4 * count);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < count; i++) dv.setUint32(4 * i, value, true);
  return out;
}

const chunk = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 4 },
  { arbitrary: fc.tuple(fc.nat(255), fc.integer({ min: 0, max: 200 })).map(([i, n]) => encodeRecord(payloadOf(i, n))), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max: 100 }).map((n) => new Uint8Array(n)), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.oneof(fc.constantFrom(0, 1, 40, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat(400)), fc.integer({ min: 1, max: 64 }))
      .map(([v, c]) => u32Run(v, c)),
    weight: 1,
  },
);
const garbage = fc.array(chunk, { maxLength: 8 }).map((parts) => new Uint8Array(Buffer.concat(parts)));

type HeaderKind = 'valid' | 'none' | 'random' | 'zero' | 'short';
const headerKind = fc.constantFrom<HeaderKind>('valid', 'valid', 'none', 'random', 'zero', 'short');

function withHeader(kind: HeaderKind, base: number, body: Uint8Array, rnd: Uint8Array): Uint8Array {
  switch (kind) {
    case 'valid':
      return Buffer.concat([encodeSegmentHeader(base), body]);
    case 'none':
      return body;
    case 'random':
      return Buffer.concat([rnd.subarray(0, HEADER_SIZE), body]);
    case 'zero':
      return Buffer.concat([new Uint8Array(HEADER_SIZE), body]);
    case 'short':
      return encodeSegmentHeader(base).subarray(0, Math.min(HEADER_SIZE - 1, body.length));
  }
}

/** scanSegment and countWellFormed straight on one file. */
function scanFile(path: string, max: number): void {
  const size = statSync(path).size;
  guarded(path.slice(0, path.lastIndexOf('/')), `scanSegment(${path})`, (io) => {
    const fd = io.open(path, 'r');
    try {
      const res = scanSegment(io, fd, { maxPayloadBytes: max });
      expect(res.end).toBeGreaterThanOrEqual(Math.min(HEADER_SIZE, size));
      expect(res.end).toBeLessThanOrEqual(Math.max(size, HEADER_SIZE));
      const count = countWellFormed(io, fd, Math.min(HEADER_SIZE, size), size, max, false);
      expect(count).toBeGreaterThanOrEqual(res.records);
      return res;
    } finally {
      io.close(fd);
    }
  });
}

describe('random bytes as a segment never crash, over-allocate or loop', LOOP_GUARD, () => {
  it('as the only segment, with or without a valid header: the outcome is the one FORMAT.md gives', () => {
    fc.assert(
      fc.property(headerKind, garbage, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(2 ** 40), fc.constantFrom(DEFAULT_MAX_PAYLOAD_BYTES, 100, 0), (kind, body, rnd, base, max) => {
        const dir = tempDir();
        const name = segmentName(base);
        const bytes = withHeader(kind, base, body, rnd);
        writeFileSync(join(dir, name), bytes);
        const before = snapshotDir(dir);

        const verify = guarded(dir, 'verifyJournal', (io) => verifyJournal(dir, { io, maxPayloadBytes: max }));
        expect(snapshotDir(dir)).toEqual(before);
        scanFile(join(dir, name), max);
        expect(snapshotDir(dir)).toEqual(before);
        const rec = guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io, maxPayloadBytes: max }));

        if (headerIsValid(bytes, base) && modelScan(bytes, max).reason === 'length-over-limit' && validIgnoringLimit(bytes, modelScan(bytes, max).end)) {
          const m = modelScan(bytes, max);
          expect(rec.error).toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL', segment: name, position: m.end });
          expect(verify.error).toMatchObject({ code: 'WAL_MAX_PAYLOAD_TOO_SMALL', segment: name, position: m.end });
          expect(snapshotDir(dir)).toEqual(before);
        } else if (headerIsValid(bytes, base)) {
          const m = modelScan(bytes, max);
          const tail = bytes.subarray(m.end);
          expect(rec.error).toBeUndefined();
          expect(verify.value!.recordsVerified).toBe(m.records);
          expect(rec.value!.head).toBe(base + m.end - HEADER_SIZE);
          if (tail.length === 0 || isZero(tail)) {
            expect(rec.value!.cuts).toEqual([]);
            expect(verify.value!.ok).toBe(true);
          } else {
            expect(verify.value!.ok).toBe(false);
            expect(rec.value!.cuts).toMatchObject([{ segment: name, position: m.end, reason: m.reason, bytes: tail.length }]);
            const q = quarantineFiles(dir);
            expect(q.size).toBe(1);
            expect(holdsCut([...q.values()][0]!, tail)).toBe(true);
          }
        } else if (bytes.length < HEADER_SIZE || isZero(bytes)) {
          // a crash while the segment was created: moved aside whole
          expect(rec.error).toBeUndefined();
          expect(verify.value!.ok).toBe(false);
          expect(rec.value!.cuts).toMatchObject([{ segment: name, position: 0, reason: 'bad-segment-header', bytes: bytes.length }]);
          expect(holdsCut([...quarantineFiles(dir).values()][0]!, bytes)).toBe(true);
        } else {
          expect(rec.error).toBeInstanceOf(QuarantineError);
          expect(rec.error).toMatchObject({ segment: name, position: 0, reason: 'bad-segment-header' });
          expect(verify.value!.ok).toBe(false);
          expect(snapshotDir(dir)).toEqual(before);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('as the last segment after a valid one, or as a sealed segment before a valid one', () => {
    fc.assert(
      fc.property(headerKind, garbage, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (kind, body, rnd, garbageIsLast) => {
        const dir = tempDir();
        const max = DEFAULT_MAX_PAYLOAD_BYTES;
        let garbageName: string;
        let bytes: Uint8Array;
        let garbageBase: number;
        if (garbageIsLast) {
          const { head } = writeJournal(dir, [[payloadOf(1, 10), payloadOf(2, 0)]], 500);
          garbageBase = head;
          garbageName = segmentName(head);
          bytes = withHeader(kind, head, body, rnd);
          writeFileSync(join(dir, garbageName), bytes);
        } else {
          garbageBase = 500;
          garbageName = segmentName(garbageBase);
          bytes = withHeader(kind, garbageBase, body, rnd);
          // a sealed segment of no more than a header would share its name with the next one
          if (bytes.length <= HEADER_SIZE) return;
          writeFileSync(join(dir, garbageName), bytes);
          // the next segment starts where the garbage ends, so the log is contiguous
          writeJournal(dir, [[payloadOf(3, 7)]], garbageBase + bytes.length - HEADER_SIZE);
        }
        const before = snapshotDir(dir);
        const verify = guarded(dir, 'verifyJournal', (io) => verifyJournal(dir, { io }));
        scanFile(join(dir, garbageName), max);
        expect(snapshotDir(dir)).toEqual(before);
        const copy = tempDir();
        cpSync(dir, copy, { recursive: true });
        const rec = guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io }));
        const repaired = guarded(copy, 'recoverJournal --repair', (io) => recoverJournal(copy, { io, repair: true }));
        expect(repaired.error).toBeUndefined();

        const valid = headerIsValid(bytes, garbageBase);
        const m = valid ? modelScan(bytes, max) : undefined;
        const clean = m !== undefined && m.end === bytes.length;
        if (garbageIsLast) {
          const tornCreate = !valid && (bytes.length < HEADER_SIZE || isZero(bytes));
          if (valid || tornCreate) expect(rec.error).toBeUndefined();
          else expect(rec.error).toBeInstanceOf(QuarantineError);
          if (valid && (clean || isZero(bytes.subarray(m!.end)))) expect(verify.value!.ok).toBe(true);
          else expect(verify.value!.ok).toBe(false);
        } else if (clean) {
          expect(rec.error).toBeUndefined();
          expect(verify.value!.ok).toBe(true);
        } else {
          // damage in sealed data: refused, nothing changed
          expect(rec.error).toBeInstanceOf(QuarantineError);
          expect(rec.error).toMatchObject(valid ? { segment: garbageName, position: m!.end, reason: m!.reason } : { segment: garbageName, position: 0, reason: 'bad-segment-header' });
          expect(snapshotDir(dir)).toEqual(before);
          expect(verify.value!.ok).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a random segment larger than the 4 MiB read chunk is read in bounded chunks', () => {
    for (const kind of ['valid', 'none'] as const) {
      const dir = tempDir();
      const body = new Uint8Array(5 * MiB + 123);
      for (let i = 0; i < body.length; i++) body[i] = (i * 2654435761) >>> 24;
      writeFileSync(join(dir, segmentName(0)), withHeader(kind, 0, body, body));
      guarded(dir, 'verifyJournal', (io) => verifyJournal(dir, { io }));
      scanFile(join(dir, segmentName(0)), DEFAULT_MAX_PAYLOAD_BYTES);
      guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io }));
    }
  });
});

describe('length fields of any value up to 0xFFFFFFFF are refused before anything is allocated', LOOP_GUARD, () => {
  const segments = [
    [payloadOf(1, 5), payloadOf(2, 100)],
    [payloadOf(3, 0), payloadOf(4, 7), payloadOf(5, 300)],
  ];
  const layout = layoutOf(segments, 64);

  function lengthsFor(fileSize: number, position: number, max: number): number[] {
    const room = fileSize - position - RECORD_OVERHEAD;
    const values = [0, 1, 0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x40000000, 0x01000000, max - 1, max, max + 1];
    for (let d = -3; d <= 3; d++) values.push(fileSize + d, room + d);
    return [...new Set(values)].filter((v) => v >= 0 && v <= 0xffffffff);
  }

  function expectedReason(n: number, position: number, size: number, max: number): CutReason {
    if (n > max) return 'length-over-limit';
    if (position + RECORD_OVERHEAD + n > size) return 'torn-payload';
    return 'crc-mismatch';
  }

  for (const max of [DEFAULT_MAX_PAYLOAD_BYTES, 100, 0xffffffff, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    it(`in the last segment, with maxPayloadBytes ${max}: cut at that record with the reason FORMAT.md gives`, () => {
      const lastRecords = layout.records.filter((r) => r.segment === 1);
      let cases = 0;
      for (const rec of lastRecords) {
        const size = layout.sizes[1]!;
        for (const n of lengthsFor(size, rec.position, max)) {
          if (n === rec.payload.length) continue;
          const dir = tempDir();
          writeJournal(dir, segments, 64);
          const path = join(dir, layout.names[1]!);
          const bytes = readFileSync(path);
          bytes.writeUInt32LE(n, rec.position);
          writeFileSync(path, bytes);
          // the records before it (in the sealed segment too) are within every limit tried
          expect(layout.records.filter((r) => r.segment === 0 || r.position < rec.position).every((r) => r.payload.length <= max)).toBe(true);
          const verify = guarded(dir, 'verifyJournal', (io) => verifyJournal(dir, { io, maxPayloadBytes: max }));
          scanFile(path, max);
          const out = guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io, maxPayloadBytes: max }));
          const ctx = `length ${n} at ${rec.position}, max ${max}`;
          expect(verify.value!.ok, ctx).toBe(false);
          expect(out.error, ctx).toBeUndefined();
          expect(out.value!.cuts, ctx).toMatchObject([{ position: rec.position, offset: rec.offset, reason: expectedReason(n, rec.position, size, max), bytes: size - rec.position }]);
          expect(holdsCut([...quarantineFiles(dir).values()][0]!, bytes.subarray(rec.position)), ctx).toBe(true);
          expect(statSync(path).size, ctx).toBe(rec.position);
          cases++;
        }
      }
      if (max >= 300) expect(cases).toBeGreaterThan(40);
    });
  }

  it('in a sealed segment: a QuarantineError with the reason FORMAT.md gives, and nothing changes', () => {
    const max = DEFAULT_MAX_PAYLOAD_BYTES;
    const size = layout.sizes[0]!;
    for (const rec of layout.records.filter((r) => r.segment === 0)) {
      for (const n of lengthsFor(size, rec.position, max)) {
        if (n === rec.payload.length) continue;
        const dir = tempDir();
        writeJournal(dir, segments, 64);
        const path = join(dir, layout.names[0]!);
        const bytes = readFileSync(path);
        bytes.writeUInt32LE(n, rec.position);
        writeFileSync(path, bytes);
        const before = snapshotDir(dir);
        const out = guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io }));
        const verify = guarded(dir, 'verifyJournal', (io) => verifyJournal(dir, { io }));
        scanFile(path, max);
        const ctx = `length ${n} at ${rec.position}`;
        expect(out.error, ctx).toBeInstanceOf(QuarantineError);
        expect(out.error, ctx).toMatchObject({ code: 'WAL_QUARANTINE', segment: layout.names[0], position: rec.position, offset: rec.offset, reason: expectedReason(n, rec.position, size, max) });
        expect(verify.value!.problems[0], ctx).toMatchObject({ segment: layout.names[0], position: rec.position, reason: expectedReason(n, rec.position, size, max) });
        expect(snapshotDir(dir), ctx).toEqual(before);
      }
    }
  });

  it('in a segment larger than the read chunk, a huge length at the start and near the end allocates nothing beyond the file', () => {
    const big = payloadOf(9, 4 * MiB + 1000);
    for (const which of [0, 2]) {
      for (const n of [0xffffffff, 0x80000000, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_PAYLOAD_BYTES + 1, 4 * MiB + 1001]) {
        const dir = tempDir();
        const payloads = [payloadOf(1, 3), big, payloadOf(2, 50)];
        const l = layoutOf([payloads]);
        writeJournal(dir, [payloads]);
        const path = join(dir, l.names[0]!);
        const bytes = readFileSync(path);
        const rec = l.records[which]!;
        bytes.writeUInt32LE(n, rec.position);
        writeFileSync(path, bytes);
        const out = guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io }));
        expect(out.value!.cuts[0]).toMatchObject({ position: rec.position });
      }
    }
  });
});
