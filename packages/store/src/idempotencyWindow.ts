/**
 * The caller-given ids of the last `capacity` such events appended (default
 * 1,000,000), each with the log position of its commit: what makes a
 * retried commit resolve to its original result. Oldest ids leave first.
 *
 * An id is kept as a 64-bit hash, not as a string, in an open-addressing
 * table of typed arrays (measured with 1,000,000 UUIDs: a Map of strings
 * took 192 MB; this takes 24 to 46 bytes an id, about 40 MB). A hash names a
 * commit to look at, never a verdict: the caller reads that commit and
 * compares the ids themselves, so a collision (about 1 in 10^7 among a
 * million ids) costs one read and never gives a wrong answer; the id added
 * second under a taken hash is not remembered (a retry of its commit is
 * still found through its other ids, position by position).
 */

const EMPTY = -1;

/** Two 32-bit hashes of a string's UTF-16 code units (FNV-1a style, then a murmur3 finaliser each). */
export function idHash(id: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return [fmix(a ^ id.length), fmix(b)];
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class IdempotencyWindow {
  /** The table: a power of two, at most 70% full (linear probing). */
  private lo = new Uint32Array(1024);
  private hi = new Uint32Array(1024);
  private at = new Float64Array(1024).fill(EMPTY);
  private mask = 1023;
  /** Insertion order, for eviction: a ring of hashes. */
  private ringLo = new Uint32Array(1024);
  private ringHi = new Uint32Array(1024);
  private ringStart = 0;
  private live = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.live;
  }

  /** The log position of the commit that may hold `id` (read it to be sure), when the window has its hash. */
  get(id: string): number | undefined {
    if (this.live === 0) return undefined;
    const [l, h] = idHash(id);
    const i = this.find(l, h);
    return i === EMPTY ? undefined : this.at[i]!;
  }

  add(id: string, commitPosition: number): void {
    if (this.capacity === 0) return;
    const [l, h] = idHash(id);
    this.addHash(l, h, commitPosition);
  }

  /** Adds a hash directly (loading a checkpoint). */
  addHash(l: number, h: number, commitPosition: number): void {
    if (this.find(l, h) !== EMPTY) return; // the first commit of an id stays its owner
    if ((this.live + 1) * 10 > this.at.length * 7) this.resize(this.at.length * 2); // load at most 0.7
    this.insert(l, h, commitPosition);
    this.pushRing(l, h);
    this.live++;
    if (this.live > this.capacity) this.evictOldest();
  }

  /** Visits the hashes oldest first, with their commit positions (for the checkpoint). */
  forEach(visit: (lo: number, hi: number, commitPosition: number) => void): void {
    const n = this.ringLo.length;
    for (let k = 0; k < this.live; k++) {
      const r = (this.ringStart + k) % n;
      const l = this.ringLo[r]!;
      const h = this.ringHi[r]!;
      visit(l, h, this.at[this.find(l, h)]!);
    }
  }

  private find(l: number, h: number): number {
    for (let i = l & this.mask; ; i = (i + 1) & this.mask) {
      if (this.at[i] === EMPTY) return EMPTY;
      if (this.lo[i] === l && this.hi[i] === h) return i;
    }
  }

  private insert(l: number, h: number, position: number): void {
    let i = l & this.mask;
    while (this.at[i] !== EMPTY) i = (i + 1) & this.mask;
    this.lo[i] = l;
    this.hi[i] = h;
    this.at[i] = position;
  }

  private resize(size: number): void {
    const { lo, hi, at } = this;
    this.lo = new Uint32Array(size);
    this.hi = new Uint32Array(size);
    this.at = new Float64Array(size).fill(EMPTY);
    this.mask = size - 1;
    for (let i = 0; i < at.length; i++) if (at[i] !== EMPTY) this.insert(lo[i]!, hi[i]!, at[i]!);
  }

  private pushRing(l: number, h: number): void {
    let n = this.ringLo.length;
    if (this.live === n) {
      // grow, unrolling the ring so that it starts at 0
      const grownLo = new Uint32Array(n * 2);
      const grownHi = new Uint32Array(n * 2);
      for (let k = 0; k < n; k++) {
        grownLo[k] = this.ringLo[(this.ringStart + k) % n]!;
        grownHi[k] = this.ringHi[(this.ringStart + k) % n]!;
      }
      this.ringLo = grownLo;
      this.ringHi = grownHi;
      this.ringStart = 0;
      n *= 2;
    }
    const r = (this.ringStart + this.live) % n;
    this.ringLo[r] = l;
    this.ringHi[r] = h;
  }

  /** Drops the oldest id; linear probing's backward-shift deletion keeps every other id findable. */
  private evictOldest(): void {
    const n = this.ringLo.length;
    let i = this.find(this.ringLo[this.ringStart]!, this.ringHi[this.ringStart]!);
    this.ringStart = (this.ringStart + 1) % n;
    this.live--;
    this.at[i] = EMPTY;
    for (let j = (i + 1) & this.mask; this.at[j] !== EMPTY; j = (j + 1) & this.mask) {
      const home = this.lo[j]! & this.mask;
      // j moves back into the hole when the hole lies between j's home and j (cyclically)
      if (((i - home) & this.mask) < ((j - home) & this.mask)) {
        this.lo[i] = this.lo[j]!;
        this.hi[i] = this.hi[j]!;
        this.at[i] = this.at[j]!;
        this.at[j] = EMPTY;
        i = j;
      }
    }
  }
}
