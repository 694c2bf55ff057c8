import { describe, expect, it } from 'vitest';
import { encodeCommit, prepareCommit } from '@episteme/store/internals';
import { assertionDecoder } from '../src/projections/assertionEvents.js';
import { DecodedRecords } from '../src/projections/decodedRecords.js';

const commit = (id: string, object = 'o'): Uint8Array =>
  encodeCommit(
    prepareCommit(`assertion-${id}`, [
      { id: `e-${id}`, type: 'AssertionMade', data: { id, subject: 's', predicate: 'p', object, confidence: 0.5, source: 'x', assertedAt: '2026-12-07T16:00:00.000Z' }, metadata: { producer: 't', schema: 1 } },
    ]),
    1,
    1_700_000_000_000,
  );

/** A decode that counts its calls and returns fresh objects, as the store's does. */
function counting(): { decode: (r: { offset: number }) => { offset: number; data: { n: number } }[]; calls: () => number } {
  let calls = 0;
  return { decode: (r) => (calls++, [{ offset: r.offset, data: { n: calls } }]), calls: () => calls };
}

describe("the records the app's followers decoded lately (DecodedRecords)", () => {
  it('decodes a record once for every follower: the same frozen events for the same offset and bytes, whatever buffer they are read from', () => {
    const cache = new DecodedRecords<{ offset: number; data: { n: number } }>(8, 1024);
    const { decode, calls } = counting();
    const bytes = commit('a');
    const first = cache.eventsOf({ offset: 100, payload: bytes }, decode);
    const again = cache.eventsOf({ offset: 100, payload: Uint8Array.from(bytes) }, decode);
    expect(again).toBe(first);
    expect(calls()).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(Object.isFrozen(first[0]!.data)).toBe(true);
    expect(() => ((first[0]!.data as { n: number }).n = 2)).toThrow(TypeError);
  });

  it('decodes again when the bytes at an offset differ, by one byte or in length (another log, or an offset a crash gave to another record)', () => {
    const cache = new DecodedRecords<{ offset: number; data: { n: number } }>(8, 1024);
    const { decode, calls } = counting();
    const a = commit('a');
    cache.eventsOf({ offset: 0, payload: a }, decode);
    const flipped = Uint8Array.from(a);
    flipped[flipped.length - 3]! ^= 1;
    expect(cache.eventsOf({ offset: 0, payload: flipped }, decode)[0]!.data.n).toBe(2);
    expect(cache.eventsOf({ offset: 0, payload: commit('a', 'longer') }, decode)[0]!.data.n).toBe(3);
    // the same bytes at another offset are another record
    expect(cache.eventsOf({ offset: 1, payload: commit('a', 'longer') }, decode)[0]!.data.n).toBe(4);
    expect(calls()).toBe(4);
  });

  it('keeps a copy of the bytes: a reader that reuses its buffer changes nothing cached', () => {
    const cache = new DecodedRecords<{ offset: number; data: { n: number } }>(8, 1024);
    const { decode, calls } = counting();
    const buffer = Uint8Array.from(commit('a'));
    const first = cache.eventsOf({ offset: 7, payload: buffer }, decode);
    buffer.set(commit('b').subarray(0, buffer.length)); // the reader's next record lands in the same buffer
    expect(cache.eventsOf({ offset: 7, payload: buffer }, decode)).not.toBe(first);
    expect(cache.eventsOf({ offset: 7, payload: commit('a') }, decode)).not.toBe(first); // the slot holds the other bytes now
    expect(calls()).toBe(3);
  });

  it('decodes every time a record longer than a region, and a record that replaced another in its slot', () => {
    const long = new DecodedRecords<{ offset: number; data: { n: number } }>(8, 64);
    const { decode, calls } = counting();
    const bytes = commit('a');
    expect(bytes.length).toBeGreaterThan(64);
    const first = long.eventsOf({ offset: 0, payload: bytes }, decode);
    expect(Object.isFrozen(first[0])).toBe(true);
    long.eventsOf({ offset: 0, payload: bytes }, decode);
    expect(calls()).toBe(2);

    const one = new DecodedRecords<{ offset: number; data: { n: number } }>(1, 1024);
    const c = counting();
    one.eventsOf({ offset: 0, payload: commit('a') }, c.decode);
    one.eventsOf({ offset: 500, payload: commit('b') }, c.decode);
    one.eventsOf({ offset: 0, payload: commit('a') }, c.decode);
    expect(c.calls()).toBe(3);
  });

  it('refuses a slot count that is not a power of two', () => {
    expect(() => new DecodedRecords(6, 1024)).toThrow(RangeError);
    expect(() => new DecodedRecords(0, 1024)).toThrow(RangeError);
  });

  it("is shared by every assertionDecoder: the second follower of a commit gets the first one's events, frozen", () => {
    const record = { offset: 12_345_678, payload: commit('shared') };
    const projection = assertionDecoder();
    const audit = assertionDecoder();
    const events = projection.eventsOf(record);
    expect(events[0]).toMatchObject({ type: 'AssertionMade', stream: 'assertion-shared', globalPosition: 12_345_678, data: { object: 'o' } });
    expect(audit.eventsOf({ offset: record.offset, payload: Uint8Array.from(record.payload) })).toBe(events);
    expect(Object.isFrozen(events[0]!.data)).toBe(true);
    // other bytes at that offset: decoded on their own
    expect(audit.eventsOf({ offset: record.offset, payload: commit('shared', 'other') })[0]!.data).toMatchObject({ object: 'other' });
  });
});
