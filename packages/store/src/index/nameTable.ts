import { randomBytes } from 'node:crypto';

/**
 * Stream names to slots (0, 1, 2... in the order first seen): what a
 * `Map<string, number>` did for the stream index, in an open-addressing
 * table of typed arrays holding each name's hash beside its slot. Why: a
 * lookup of a name not in a Map of 100,000s (every new stream's, at every
 * append) walked a bucket chain through the keys' strings, a cache miss
 * each, 0.3-0.5 µs in an import's profile; here a miss reads one entry of
 * the table, and a string is compared only when its hash is equal.
 */
export class NameTable {
  private readonly names: string[] = [];
  /** Pairs (slot + 1, hash); slot + 1 === 0 marks an empty entry. A power of two of pairs, at most half full. */
  private table = new Int32Array(2 * 1024);
  private mask = 1023;
  /** The name hashed last and its hash: a lookup, then the add of the same name, hash it once. */
  private lastName = '';
  private lastHash = hashOf('');

  get size(): number {
    return this.names.length;
  }

  /** The name's slot, or -1. */
  get(name: string): number {
    const h = this.hashOf(name);
    const table = this.table;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = table[2 * i]!;
      if (s === 0) return -1;
      if (table[2 * i + 1] === h && this.names[s - 1] === name) return s - 1;
    }
  }

  /** Adds a name that is not in the table (see get); returns its slot. */
  add(name: string): number {
    const slot = this.names.length;
    this.names.push(name);
    if (2 * this.names.length > this.mask + 1) this.grow();
    else this.place(this.table, this.mask, slot, this.hashOf(name));
    return slot;
  }

  nameOf(slot: number): string {
    return this.names[slot]!;
  }

  private hashOf(name: string): number {
    if (name !== this.lastName) {
      this.lastHash = hashOf(name);
      this.lastName = name;
    }
    return this.lastHash;
  }

  private place(table: Int32Array, mask: number, slot: number, h: number): void {
    let i = h & mask;
    while (table[2 * i] !== 0) i = (i + 1) & mask;
    table[2 * i] = slot + 1;
    table[2 * i + 1] = h;
  }

  /** Twice the entries; every name placed again by the hash kept in the table (the new one's computed). */
  private grow(): void {
    const old = this.table;
    const mask = 2 * (this.mask + 1) - 1;
    const table = new Int32Array(2 * (mask + 1));
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.place(table, mask, old[i]! - 1, old[i + 1]!);
    const slot = this.names.length - 1;
    this.place(table, mask, slot, this.hashOf(this.names[slot]!));
    this.table = table;
    this.mask = mask;
  }
}

/**
 * A random start per process, as V8 seeds its own string hashes: names
 * chosen to collide (a flood of one probe chain) cannot be made ahead of time.
 */
const SEED = randomBytes(4).readUInt32LE(0);

/** FNV-1a over the UTF-16 units from a random start, with a final mix (linear probing wants the low bits spread). */
export function hashOf(s: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
