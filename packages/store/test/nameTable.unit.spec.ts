import { describe, expect, it } from 'vitest';
import { hashOf, NameTable } from '../src/index/nameTable.js';
import { seededRandom } from './rng.js';

describe('NameTable: stream names to slots', () => {
  it('finds what a Map finds, through every growth, for names that share long prefixes and suffixes', () => {
    const random = seededRandom(7);
    const table = new NameTable();
    const map = new Map<string, number>();
    const name = (): string => {
      const n = Math.floor(random() * 60_000);
      return random() < 0.5 ? `assertion-${n}` : `${n}-stream-é-${'x'.repeat(n % 40)}`;
    };
    for (let i = 0; i < 200_000; i++) {
      const s = name();
      const want = map.get(s) ?? -1;
      expect(table.get(s)).toBe(want);
      if (want === -1) {
        const slot = table.add(s);
        expect(slot).toBe(map.size);
        map.set(s, slot);
      }
    }
    expect(table.size).toBe(map.size);
    for (const [s, slot] of map) {
      expect(table.get(s)).toBe(slot);
      expect(table.nameOf(slot)).toBe(s);
    }
    expect(table.get('')).toBe(-1);
    expect(table.get('assertion-60000')).toBe(-1);
  });

  it('tells names apart whose hashes are equal', () => {
    // two names with one hash, found by search: the table must compare the strings
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const s = `n${i}`;
      const h = hashOf(s) & 0xfffff; // equal low bits: same place in a small table, then equal in full
      const other = seen.get(h);
      if (other !== undefined && hashOf(other) === hashOf(s)) pair = [other, s];
      else seen.set(h, s);
      if (i > 5_000_000) break;
    }
    const table = new NameTable();
    if (pair === undefined) {
      // no full collision among these names: two names placed on the same entry still have to be told apart
      const a = table.add('a');
      expect(table.get('a')).toBe(a);
      expect(table.get('b')).toBe(-1);
      return;
    }
    const [x, y] = pair;
    expect(hashOf(x)).toBe(hashOf(y));
    const sx = table.add(x);
    expect(table.get(y)).toBe(-1);
    const sy = table.add(y);
    expect([table.get(x), table.get(y)]).toEqual([sx, sy]);
  });
});
