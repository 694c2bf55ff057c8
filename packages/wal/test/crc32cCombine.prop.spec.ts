import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32cJs, encodeRecordInto, RECORD_OVERHEAD } from '../src/internals.js';
import { crc32cCombine } from '../src/checksum/crc32cCombine.js';
import { crc32cOfRecords } from '../src/format/record.js';

/**
 * The writer's running CRC of its segment is derived from the CRCs stored in
 * large records instead of reading their bytes again: it must equal the CRC
 * of the bytes, or every open would lose its shortcuts (clean close, synced
 * prefix) and scan the last segment whole.
 */
describe('CRC32C combination', () => {
  it('crc(A ‖ B) from crc(A), crc(B) and |B|', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const whole = new Uint8Array(a.length + b.length);
        whole.set(a);
        whole.set(b, a.length);
        expect(crc32cCombine(crc32cJs(a), crc32cJs(b), b.length)).toBe(crc32cJs(whole));
      }),
      { numRuns: 300 },
    );
  });

  it('the running CRC over encoded records equals the CRC of their bytes, small and large, after any prefix', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.array(fc.integer({ min: 0, max: 9000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 50 }),
        (prefix, sizes, trailing) => {
          const payloads = sizes.map((n, i) => Uint8Array.from({ length: n }, (_, k) => (k * 131 + i * 7 + n) & 0xff));
          const length = payloads.reduce((s, p) => s + RECORD_OVERHEAD + p.length, 0);
          // bytes after the records that are not a whole record: read as they are
          const buf = new Uint8Array(length + trailing).fill(0xa5);
          let pos = 0;
          for (const p of payloads) pos = encodeRecordInto(p, buf, pos);
          const before = crc32cJs(prefix);
          const all = new Uint8Array(prefix.length + buf.length);
          all.set(prefix);
          all.set(buf, prefix.length);
          expect(crc32cOfRecords(buf, buf.length, before)).toBe(crc32cJs(all));
        },
      ),
      { numRuns: 200 },
    );
  });
});
