import { describe, expect, it } from 'vitest';
import { encodeCommit, prepareCommit } from '@episteme/store/internals';
import { assertionDecoder } from '../src/projections/assertionEvents.js';
import { DecodedRecords } from '../src/projections/decodedRecords.js';

const commit = (id: string, first = 1): Uint8Array =>
  encodeCommit(
    prepareCommit(`assertion-${id}`, [
      { id: `e-${id}`, type: 'AssertionMade', data: { id, subject: 's', predicate: 'p', object: 'o', confidence: 0.5, source: 'x', assertedAt: '2026-12-07T16:00:00.000Z' }, metadata: { producer: 't', schema: 1 } },
    ]),
    first,
    1_700_000_000_000,
  );

describe("the records the app's followers decoded lately", () => {
  it('are decoded once for every follower: the same frozen events for the same offset and bytes', () => {
    const cache = new DecodedRecords<{ data: unknown }>(8);
    let decodes = 0;
    const decode = () => (decodes++, [{ data: { n: 1 }, metadata: { m: 1 } } as { data: unknown }]);
    const bytes = commit('a');
    const first = cache.eventsOf({ offset: 100, payload: bytes }, decode);
    // another reader's view of the same bytes, in another buffer
    const again = cache.eventsOf({ offset: 100, payload: Uint8Array.from(bytes) }, decode);
    expect(again).toBe(first);
    expect(decodes).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(Object.isFrozen(first[0]!.data)).toBe(true);
    expect(() => ((first[0]!.data as { n: number }).n = 2)).toThrow(TypeError);
  });

  it('decode again when the bytes at an offset differ (another log, or an offset a crash gave to another record)', () => {
    const cache = new DecodedRecords<{ id: string }>(8);
    const a = cache.eventsOf({ offset: 0, payload: commit('a') }, () => [{ id: 'a' }]);
    const b = cache.eventsOf({ offset: 0, payload: commit('b') }, () => [{ id: 'b' }]);
    expect(a[0]!.id).toBe('a');
    expect(b[0]!.id).toBe('b');
    // one byte changed, the same length: still another record
    const changed = commit('b');
    changed[changed.length - 3] ^= 1;
    expect(cache.eventsOf({ offset: 0, payload: changed }, () => [{ id: 'c' }])[0]!.id).toBe('c');
  });

  it('forget the oldest past their capacity, and a reader reusing its buffer changes nothing cached', () => {
    const cache = new DecodedRecords<{ n: number }>(2);
    const buffer = commit('a');
    let decodes = 0;
    const decode = (n: number) => () => (decodes++, [{ n }]);
    cache.eventsOf({ offset: 1, payload: buffer }, decode(1));
    buffer.fill(0); // the reader reuses its buffer: the cache kept a copy
    cache.eventsOf({ offset: 2, payload: commit('b') }, decode(2));
    expect(cache.eventsOf({ offset: 1, payload: commit('a') }, decode(1))[0]!.n).toBe(1);
    expect(decodes).toBe(2);
    cache.eventsOf({ offset: 3, payload: commit('c') }, decode(3)); // evicts offset 2, the oldest but one
    cache.eventsOf({ offset: 4, payload: commit('d') }, decode(4));
    cache.eventsOf({ offset: 1, payload: commit('a') }, decode(1));
    expect(decodes).toBe(5);
  });

  it("assertionDecoder's decoders share one cache: the second follower of a commit gets the first one's events", () => {
    const record = { offset: 12_345_678, payload: commit('shared') };
    const projection = assertionDecoder();
    const audit = assertionDecoder();
    const events = projection.eventsOf(record);
    expect(events[0]).toMatchObject({ type: 'AssertionMade', stream: 'assertion-shared', globalPosition: 12_345_678 });
    expect(audit.eventsOf({ offset: record.offset, payload: Uint8Array.from(record.payload) })).toBe(events);
  });
});
