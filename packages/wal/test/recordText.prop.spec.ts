import { inspect } from 'node:util';
import { blake3 } from '@noble/hashes/blake3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Journal, type JournalRecord } from '../src/index.js';
import { tempDir } from './helpers.js';

const BOM = [0xef, 0xbb, 0xbf];
const decoder = new TextDecoder();

/**
 * Payloads that stress a UTF-8 decoder: random bytes (mostly invalid UTF-8),
 * well-formed text of any code point, and either of them behind a byte
 * order mark or a truncated one.
 */
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => new TextEncoder().encode(s)),
  fc
    .tuple(fc.constantFrom([...BOM], [...BOM, ...BOM], BOM.slice(0, 2), [0xef]), fc.uint8Array({ maxLength: 16 }))
    .map(([prefix, rest]) => Uint8Array.from([...prefix, ...rest])),
  fc.constantFrom(
    Uint8Array.from([0xed, 0xa0, 0x80]), // an encoded surrogate
    Uint8Array.from([0xc0, 0xaf]), // overlong
    Uint8Array.from([0xf0, 0x9f, 0x98]), // truncated 4-byte sequence
    Uint8Array.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
  ),
);

function checkRecord(rec: JournalRecord, expected: Uint8Array): void {
  expect(rec.payload).toEqual(expected);
  expect(rec.text()).toBe(decoder.decode(expected));
  expect(rec.blake3).toEqual(blake3(expected));
  // views are made once: the same object on every access
  expect(rec.payload).toBe(rec.payload);
  expect(rec.blake3).toBe(rec.blake3);
}

describe('a record read back', () => {
  it('gives text() exactly as TextDecoder decodes its payload (BOM dropped, invalid sequences replaced), through read, readMany and readFrom', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 64 }), async (payloads, batch) => {
        const dir = tempDir();
        const journal = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 4096 });
        try {
          const offsets: number[] = [];
          for (let i = 0; i < payloads.length; i += 50) offsets.push(...(await journal.appendBatch(payloads.slice(i, i + 50))));
          // readMany in batches (the read-ahead path once a batch is full), readFrom, then read one by one
          let i = 0;
          for (let pos = 0; ; ) {
            const got = journal.readMany(pos, batch);
            if (got.length === 0) break;
            for (const rec of got) checkRecord(rec, payloads[i++]!);
            pos = got[got.length - 1]!.next;
          }
          expect(i).toBe(payloads.length);
          i = 0;
          for await (const rec of journal.readFrom(0)) checkRecord(rec, payloads[i++]!);
          expect(i).toBe(payloads.length);
          offsets.forEach((offset, k) => checkRecord(journal.read(offset)!, payloads[k]!));
        } finally {
          await journal.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('shows its fields when logged, not its private buffer', async () => {
    const journal = await Journal.open({ dir: tempDir(), durability: 'none' });
    try {
      await journal.append(new TextEncoder().encode('hi'));
      const shown = inspect(journal.read(0)).replace(/\s+/g, ' ');
      expect(shown).toMatch(/^JournalRecord \{ offset: 0, payload: Uint8Array\(2\) \[ 104, 105 \], blake3: Uint8Array\(32\) \[ 133, 5, [\d, ]+\], next: 42 \}$/);
    } finally {
      await journal.close();
    }
  });
});
