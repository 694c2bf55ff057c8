import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataOf, decodeEvents, decodeHeader, metadataOf } from '../src/commit/decodeCommit.js';
import { encodeCommit, encodeTombstone, prepareCommit } from '../src/commit/encodeCommit.js';
import { KIND_COMMIT, KIND_TOMBSTONE } from '../src/commit/layout.js';
import { isStoreError, uuidv7 } from '../src/index.js';
import { uuidv7Time } from '../src/uuidv7.js';

describe('the commit record', () => {
  it('lays out a commit byte for byte as FORMAT.md says', () => {
    const payload = Buffer.from(encodeCommit(prepareCommit('s-1', [{ id: 'e1', type: 'T', data: { a: 1 }, metadata: { m: true } }]), 7, 1_700_000_000_123));
    const timestamp = Buffer.alloc(8);
    timestamp.writeBigUInt64LE(1_700_000_000_123n);
    const expected = Buffer.concat([
      Buffer.from([0x45, 0x53, 1, 1]), // magic `ES`, kind 1 (commit), layout 1
      Buffer.from([1, 0, 0, 0]), // event_count
      Buffer.from([7, 0, 0, 0, 0, 0, 0, 0]), // first_position
      timestamp,
      Buffer.from([3, 0, 0, 0]), // stream_len, reserved
      Buffer.from('s-1'),
      Buffer.from([2]), // id_len
      Buffer.from('e1'),
      Buffer.from([1, 0]), // type_len
      Buffer.from('T'),
      Buffer.from([0]), // event flags: JSON data, id given
      Buffer.from([10, 0, 0, 0]), // metadata_len
      Buffer.from('{"m":true}'),
      Buffer.from([7, 0, 0, 0]), // data_len
      Buffer.from('{"a":1}'),
    ]);
    expect(payload).toEqual(expected);
  });

  it('lays out a tombstone as its header and the stream name only', () => {
    const t = Buffer.from(encodeTombstone('gone', 12, 5));
    expect(t.length).toBe(28 + 4);
    const h = decodeHeader(t, 0);
    expect(h).toMatchObject({ kind: KIND_TOMBSTONE, stream: 'gone', firstPosition: 12, count: 0, timestamp: 5 });
    expect(decodeEvents(t, h, 0)).toEqual([]);
  });

  it('round-trips any events', () => {
    const json = fc.jsonValue();
    const event = fc.record({
      id: fc.string({ minLength: 1, maxLength: 60 }),
      type: fc.string({ minLength: 1, maxLength: 40 }),
      data: fc.oneof(json.filter((v) => v !== undefined), fc.uint8Array({ maxLength: 64 })),
      metadata: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), json), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(event, { minLength: 1, maxLength: 8, selector: (e) => e.id }), fc.integer({ min: 1, max: 2 ** 40 }), (events, first) => {
        const payload = encodeCommit(prepareCommit('prop', events), first, 42);
        const h = decodeHeader(payload, 0);
        expect(h).toMatchObject({ kind: KIND_COMMIT, stream: 'prop', firstPosition: first, count: events.length });
        const stored = decodeEvents(payload, h, 0);
        stored.forEach((s, i) => {
          const e = events[i]!;
          expect(s.id).toBe(e.id);
          expect(s.type).toBe(e.type);
          expect(dataOf(payload, s)).toEqual(e.data instanceof Uint8Array ? e.data : JSON.parse(JSON.stringify(e.data)));
          expect(metadataOf(payload, s)).toEqual(e.metadata === undefined ? undefined : JSON.parse(JSON.stringify(e.metadata)));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a cut or altered commit decodes to the events it holds or fails with STORE_CORRUPT_COMMIT, never another error', () => {
    const payload = Buffer.from(encodeCommit(prepareCommit('cut', [{ type: 'a', data: { x: 1 } }, { type: 'b', data: 'two', metadata: { y: 2 } }]), 1, 1));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: payload.length }), fc.integer({ min: 0, max: payload.length - 1 }), fc.integer({ min: 0, max: 255 }), (len, at, byte) => {
        const damaged = Buffer.from(payload);
        damaged[at] = byte;
        for (const p of [payload.subarray(0, len), damaged]) {
          try {
            decodeEvents(p, decodeHeader(p, 9), 9);
          } catch (err) {
            expect(isStoreError(err, 'STORE_CORRUPT_COMMIT'), String(err)).toBe(true);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('uuidv7', () => {
  it('makes RFC 9562 version 7 ids that carry the time and increase within a process', () => {
    const now = Date.now();
    const ids = Array.from({ length: 10_000 }, () => uuidv7(now));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(uuidv7Time(ids[0]!)).toBe(now);
    expect(uuidv7Time(ids[ids.length - 1]!) - now).toBeLessThanOrEqual(3); // a burst borrows at most a few ms
  });
});

describe('generated ids', () => {
  it('are flagged in the record, and only given ids are looked up or remembered', () => {
    const payload = encodeCommit(prepareCommit('g', [{ type: 't', data: 1 }, { id: 'given', type: 't', data: new Uint8Array([9]) }]), 1, 1);
    const [a, b] = decodeEvents(payload, decodeHeader(payload, 0), 0);
    expect([a!.generatedId, a!.bytes, b!.generatedId, b!.bytes]).toEqual([true, false, false, true]);
    expect(payload[a!.contentStart + 2 + 1]).toBe(0x02); // after type_len and the 1-byte type: event_flags
    expect(payload[b!.contentStart + 2 + 1]).toBe(0x01);
  });

  it('are made into the payload as it is written: version 7, distinct and increasing, beside given ids, the record\'s size as prepared', () => {
    const before = Date.now();
    const prepared = prepareCommit('g', [{ type: 't', data: 1 }, { id: 'mine', type: 't', data: 2 }, { type: 't', data: 3 }, { type: 't', data: 4 }]);
    const payload = encodeCommit(prepared, 1, before);
    expect(payload.length).toBe(prepared.size);
    const events = decodeEvents(payload, decodeHeader(payload, 0), 0);
    expect(events.map((e) => e.generatedId)).toEqual([true, false, true, true]);
    const generated = events.filter((e) => e.generatedId).map((e) => e.id);
    for (const id of generated) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(uuidv7Time(id)).toBeGreaterThanOrEqual(before);
    }
    expect(new Set(generated).size).toBe(3);
    expect([...generated].sort()).toEqual(generated);
    expect(events[1]!.id).toBe('mine');
    // each encoding of a prepared commit makes ids of its own: a generated id is never reused
    const again = decodeEvents(encodeCommit(prepared, 1, before), decodeHeader(payload, 0), 0);
    expect(again.filter((e) => e.generatedId).some((e) => generated.includes(e.id))).toBe(false);
  });
});
