/**
 * The native check of a run of records (native/recordRun.c) against the
 * record-by-record check every machine has: on any bytes, from any index,
 * under any bounds, both stop at the same record. Damage anywhere (a flipped
 * bit in any field, a cut end, a length over the limit) stops the run at the
 * damaged record, never after it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRecord } from '../src/format/record.js';
import { nativeRecordCheck } from '../src/index.js';
import { nativeRecordRun, portableChecksums, RECORD_OVERHEAD, type VerifyRun } from '../src/internals.js';

const readU32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** The same walk, record by record, with the portable CRC32C: what reads do without the native part. */
const modelRun: VerifyRun = (bytes, from, end, startBefore, maxPayload, maxRecords) => {
  let pos = from;
  for (let taken = 0; taken < maxRecords && pos < startBefore && end - pos >= RECORD_OVERHEAD; taken++) {
    const n = readU32(bytes, pos);
    if (n > maxPayload || end - pos - RECORD_OVERHEAD < n) break;
    const cs = portableChecksums;
    if (cs.crc32c(bytes, pos + 8, pos + RECORD_OVERHEAD + n, cs.crc32c(bytes, pos, pos + 4, 0)) !== readU32(bytes, pos + 4)) break;
    pos += RECORD_OVERHEAD + n;
  }
  return pos;
};

const verifyRun = nativeRecordRun.verifyRun;
/** Where the install builds it (x64 Linux): a build script that broke would otherwise leave every test green on the portable path. */
const expectedHere = process.arch === 'x64' && process.platform === 'linux' && process.env.EPISTEME_NATIVE_CRC !== '0' && process.env.EPISTEME_NATIVE_BUILD !== '0';

describe('the native check of a run of records', () => {
  it('is built at install and loaded on x64 Linux (EPISTEME_NATIVE_BUILD=0 or EPISTEME_NATIVE_CRC=0 to run without it)', () => {
    if (expectedHere) expect(nativeRecordRun.why, 'run `node packages/wal/scripts/build-native.mjs --strict` to see why').toBe('loaded');
    else expect(['loaded', 'EPISTEME_NATIVE_CRC=0', 'this CPU has no SSE4.2'].includes(nativeRecordRun.why) || /^(not built|built for another version)/.test(nativeRecordRun.why)).toBe(true);
    expect(nativeRecordCheck()).toEqual({ loaded: nativeRecordRun.verifyRun !== undefined, why: nativeRecordRun.why });
  });

  describe.runIf(verifyRun !== undefined)('agrees with the record-by-record check', () => {
    const run = verifyRun!;
    const sizes = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 4090, max: 4100 }), fc.constantFrom(0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25));

    it('on runs of valid records, damaged or not, from any index and under any bounds (20,000 cases)', () => {
      fc.assert(
        fc.property(
          fc.array(sizes, { minLength: 0, maxLength: 12 }),
          fc.integer({ min: 0, max: 17 }),
          fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { nil: undefined }),
          fc.nat(),
          fc.nat(),
          fc.integer({ min: -1, max: 14 }),
          fc.nat({ max: 5000 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 3 }),
          (lengths, lead, flip, cut, startAt, maxRecords, maxPayload, fromKind, boundKind) => {
            const records = lengths.map((n, i) => encodeRecord(Uint8Array.from({ length: n }, (_, k) => (i * 31 + k * 7) & 0xff)));
            const body = Buffer.concat(records);
            // a view that starts `lead` bytes into its buffer: the native side must honour byteOffset
            const backing = new Uint8Array(lead + body.length + 8).fill(0xa5);
            backing.set(body, lead);
            const bytes = backing.subarray(lead, lead + body.length);
            if (flip !== undefined && body.length > 0) bytes[flip[0] % body.length]! ^= 1 << flip[1];
            const starts = [0];
            for (const r of records) starts.push(starts[starts.length - 1]! + r.length);
            const from = fromKind === 0 ? 0 : fromKind === 1 ? starts[startAt % starts.length]! : startAt % (body.length + 1);
            const end = boundKind === 0 ? body.length : cut % (body.length + 1);
            const startBefore = boundKind === 2 ? starts[startAt % starts.length]! : boundKind === 3 ? startAt % (body.length + 1) : Number.MAX_SAFE_INTEGER;
            const limit = maxRecords < 0 ? Number.POSITIVE_INFINITY : maxRecords;
            const payloadLimit = maxPayload % 3 === 0 ? 0xffffffff : maxPayload;
            const want = from > end ? from : modelRun(bytes, from, end, startBefore, payloadLimit, limit);
            expect(run(bytes, from, end, startBefore, payloadLimit, limit)).toBe(want);
          },
        ),
        { numRuns: 20_000 },
      );
    });

    it('on random bytes (5,000 cases)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.nat(), (bytes, from) => {
          const start = from % (bytes.length + 1);
          expect(run(bytes, start, bytes.length, bytes.length, 0xffffffff, 1000)).toBe(modelRun(bytes, start, bytes.length, bytes.length, 0xffffffff, 1000));
        }),
        { numRuns: 5_000 },
      );
    });

    it('stops at a damaged record among thousands, at every record of a run of 4 KiB ones', () => {
      const records = Array.from({ length: 64 }, (_, i) => encodeRecord(Uint8Array.from({ length: 4096 }, (_, k) => (i + k) & 0xff)));
      const bytes = Buffer.concat(records);
      const size = records[0]!.length;
      expect(run(bytes, 0, bytes.length, bytes.length, 1 << 20, 1000)).toBe(bytes.length);
      for (let victim = 0; victim < records.length; victim++) {
        for (const k of [0, 5, 8, 39, 40, size - 1]) {
          bytes[victim * size + k]! ^= 0x10;
          expect(run(bytes, 0, bytes.length, bytes.length, 1 << 20, 1000), `byte ${k} of record ${victim}`).toBe(victim * size);
          bytes[victim * size + k]! ^= 0x10;
        }
      }
    });

    it('writes the CRC32Cs an append encodes record by record: the same bytes, for any run (10,000 cases)', () => {
      const fill = nativeRecordRun.fillRecordCrcs!;
      fc.assert(
        fc.property(fc.array(sizes, { minLength: 0, maxLength: 12 }), fc.integer({ min: 0, max: 17 }), fc.nat(), (lengths, lead, junk) => {
          const records = lengths.map((n, i) => encodeRecord(Uint8Array.from({ length: n }, (_, k) => (i * 13 + k * 5 + junk) & 0xff)));
          const want = Buffer.concat(records);
          const backing = new Uint8Array(lead + want.length + 8).fill(0x5a);
          backing.set(want, lead);
          const bytes = backing.subarray(lead, lead + want.length);
          // the CRC fields as a reused buffer leaves them: anything
          let at = 0;
          for (const r of records) {
            bytes.set([junk & 0xff, 1, 2, 3], at + 4);
            at += r.length;
          }
          expect(fill(bytes, 0, bytes.length)).toBe(bytes.length);
          expect(Buffer.from(bytes).equals(want)).toBe(true);
          expect(backing[lead + want.length]).toBe(0x5a); // nothing written past the run
        }),
        { numRuns: 10_000 },
      );
      // a run cut inside a record: the whole records before it are filled, the cut one is not touched
      const two = Buffer.concat([encodeRecord(new Uint8Array(10)), encodeRecord(new Uint8Array(20))]);
      const cut = Uint8Array.from(two.subarray(0, two.length - 1));
      cut.fill(0, 54, 58);
      expect(fill(cut, 0, cut.length)).toBe(50);
      expect([...cut.subarray(54, 58)]).toEqual([0, 0, 0, 0]);
      expect(fill(cut, 60, 10)).toBe(60);
      expect(() => fill(cut, -1, 10)).toThrow(TypeError);
    });

    it('refuses what is not a Uint8Array or not an index, with a TypeError', () => {
      const bytes = encodeRecord(new Uint8Array(10));
      expect(() => run(new Uint16Array(4) as unknown as Uint8Array, 0, 8, 8, 10, 1)).toThrow(TypeError);
      expect(() => run(bytes, Number.NaN, 8, 8, 10, 1)).toThrow(TypeError);
      expect(() => run(bytes, -1, 8, 8, 10, 1)).toThrow(TypeError);
      expect(() => (run as unknown as (b: Uint8Array) => number)(bytes)).toThrow(TypeError);
      // bounds past the bytes are clamped to them; a start at or past the end is where the walk stops
      expect(run(bytes, 0, 1e12, 1e12, 1e12, 1e12)).toBe(bytes.length);
      expect(run(bytes, 200, 1e12, 1e12, 1e12, 1e12)).toBe(200);
      expect(run(bytes, 30, 20, 1e12, 1e12, 1e12)).toBe(30);
    });
  });
});
