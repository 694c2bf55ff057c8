import { NameTable } from './nameTable.js';

/**
 * The stream index: for each stream, its version and where its commits are
 * in the log. It is a fold of the log (`applyCommit`, `applyTombstone` in log
 * order), so it can always be rebuilt from the log; the checkpoint file only
 * saves the open from replaying what it already covers.
 *
 * Laid out in columns, not an object per stream or per commit (measured
 * with 1,000,000 streams of one commit: an object and an array per stream
 * took 309 bytes a stream; this takes about 100): a table from the stream
 * name to a slot (NameTable), typed arrays per slot, and one table of commits in which each
 * commit points back to the stream's commit before it.
 */

const NONE = -1;

/** What `writeVersionOf` gives for a deleted stream. */
export const DELETED = -1;

/** The state of one stream as writes see it. */
export interface StreamState {
  /** Events in the stream since it was (re)created; 0 after a delete. */
  version: number;
  deleted: boolean;
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const b = make(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

export class StreamIndex {
  private readonly slots = new NameTable();
  private version = new Float64Array(1024);
  private deleted = new Uint8Array(1024);
  /** Per slot: the stream's last commit (an index into the commit table), or NONE. */
  private lastCommit = new Int32Array(1024);
  /** The commit table: log position, first stream position, the stream's previous commit (or NONE). */
  private commitAt = new Float64Array(4096);
  private commitFirst = new Float64Array(4096);
  private commitPrev = new Int32Array(4096);
  private commits = 0;
  /** Characters in all stream names (the checkpoint's size is known without a pass over them). */
  private chars = 0;
  /**
   * Streams in the log. A slot can exist before its stream is (`slotFor`:
   * a write reserved it); until a record of it is folded it holds version 0
   * and is not deleted, which no stream in the log is, and everything here
   * treats it as a stream never seen.
   */
  private known = 0;

  /** The log position after the last record folded (where the tail to replay starts). */
  head = 0;
  /** Position and BLAKE3 of the last record folded (-1 / undefined before any). */
  lastRecord = -1;
  lastDigest: Uint8Array | undefined;

  /** Streams known, deleted ones included. */
  get size(): number {
    return this.known;
  }

  /** The stream's version and whether it is deleted; undefined for a stream never seen. */
  stateOf(stream: string): StreamState | undefined {
    const s = this.slots.get(stream);
    return s < 0 || !this.inLog(s) ? undefined : { version: this.version[s]!, deleted: this.deleted[s] === 1 };
  }

  /**
   * The stream's slot, made now when it has none (not a stream of the log
   * until a record of it is folded): a write to a new stream finds its slot
   * once, when it is reserved, and is folded by it (`applyCommitAt`).
   */
  slotFor(stream: string): number {
    return this.slotOf(stream);
  }

  /** The stream's slot, or -1 when it has none (a slot may hold a stream not yet in the log: see slotFor). */
  slotIfKnown(stream: string): number {
    return this.slots.get(stream);
  }

  /** `writeVersionOf` of a slot. */
  writeVersionAt(s: number): number {
    return this.deleted[s] === 1 ? DELETED : this.version[s]!;
  }

  private inLog(s: number): boolean {
    return this.version[s]! > 0 || this.deleted[s] === 1;
  }

  /** The stream's version as a write sees it: 0 when never seen, DELETED when deleted (no object made: every append asks). */
  writeVersionOf(stream: string): number {
    const s = this.slots.get(stream);
    if (s < 0) return 0;
    return this.deleted[s] === 1 ? DELETED : this.version[s]!;
  }

  /** The stream's version as reads see it (0 when absent or deleted). */
  versionOf(stream: string): number {
    const s = this.slots.get(stream);
    return s < 0 || this.deleted[s] === 1 ? 0 : this.version[s]!;
  }

  private slotOf(stream: string): number {
    let s = this.slots.get(stream);
    if (s < 0) {
      s = this.slots.add(stream);
      this.chars += stream.length;
      this.version = grown(this.version, s + 1, (n) => new Float64Array(n));
      this.deleted = grown(this.deleted, s + 1, (n) => new Uint8Array(n));
      this.lastCommit = grown(this.lastCommit, s + 1, (n) => new Int32Array(n));
      this.version[s] = 0;
      this.deleted[s] = 0;
      this.lastCommit[s] = NONE;
    }
    return s;
  }

  applyCommit(stream: string, logPosition: number, firstPosition: number, count: number): void {
    this.applyCommitAt(this.slotOf(stream), logPosition, firstPosition, count);
  }

  /** `applyCommit` by the stream's slot. */
  applyCommitAt(s: number, logPosition: number, firstPosition: number, count: number): void {
    if (!this.inLog(s)) this.known++;
    else if (this.deleted[s] === 1) {
      // the first commit after a tombstone starts the stream again (the old commits stay in the table, unreachable)
      this.deleted[s] = 0;
      this.lastCommit[s] = NONE;
    }
    this.restoreCommit(s, logPosition, firstPosition);
    this.version[s] = firstPosition + count - 1;
  }

  applyTombstone(stream: string): void {
    const s = this.slotOf(stream);
    if (!this.inLog(s)) this.known++;
    this.deleted[s] = 1;
    this.version[s] = 0;
    this.lastCommit[s] = NONE;
  }

  /** Records that the fold reached the record at `offset` (ending at `next`); `digest` is kept, not copied. */
  advance(offset: number, next: number, digest: Uint8Array): void {
    this.lastRecord = offset;
    this.head = next;
    this.lastDigest = digest;
  }

  /**
   * The commits of `stream` holding positions `from..to` (inclusive), as
   * `[logPosition, firstStreamPosition, count]` triples in stream order.
   * Walks back from the last commit: the cost is the commits at or after
   * `from`, never the log.
   */
  commitsCovering(stream: string, from: number, to: number): Array<[number, number, number]> {
    const s = this.slots.get(stream);
    if (s < 0 || this.deleted[s] === 1) return [];
    let end = this.version[s]! + 1;
    if (from > Math.min(to, end - 1)) return [];
    const out: Array<[number, number, number]> = [];
    for (let c = this.lastCommit[s]!; c !== NONE; c = this.commitPrev[c]!) {
      const first = this.commitFirst[c]!;
      if (first <= to) out.push([this.commitAt[c]!, first, end - first]);
      if (first <= from) break;
      end = first;
    }
    return out.reverse();
  }

  /** The log positions of the commits `commitsCovering` gives, in stream order (what a read of the stream needs of them). */
  commitOffsets(stream: string, from: number, to: number): number[] {
    const s = this.slots.get(stream);
    if (s < 0 || this.deleted[s] === 1) return [];
    const version = this.version[s]!;
    if (from > Math.min(to, version)) return [];
    const out: number[] = [];
    for (let c = this.lastCommit[s]!; c !== NONE; c = this.commitPrev[c]!) {
      const first = this.commitFirst[c]!;
      if (first <= to) out.push(this.commitAt[c]!);
      if (first <= from) break;
    }
    return out.reverse();
  }

  /** Characters in all stream names (ASCII: their bytes). */
  get nameChars(): number {
    return this.chars;
  }

  /** Commits in the table (those of deleted incarnations included): an upper bound of what a checkpoint holds. */
  get commitTableSize(): number {
    return this.commits;
  }

  /**
   * Visits every stream with its state and its last commit; `commitAt`,
   * `commitFirst` and `commitPrev` walk its commits back from there. No
   * allocation per stream: the checkpoint of 1,000,000 streams is written
   * from this.
   */
  forEachStream(visit: (name: string, version: number, deleted: boolean, lastCommit: number) => void): void {
    for (let s = 0; s < this.slots.size; s++) if (this.inLog(s)) visit(this.slots.nameOf(s), this.version[s]!, this.deleted[s] === 1, this.lastCommit[s]!);
  }

  commitAtOf(c: number): number {
    return this.commitAt[c]!;
  }

  commitFirstOf(c: number): number {
    return this.commitFirst[c]!;
  }

  /** The stream's commit before `c`, or -1. */
  commitPrevOf(c: number): number {
    return this.commitPrev[c]!;
  }

  /** Puts back a stream (loading a checkpoint); its commits follow with `restoreCommit`, oldest first. */
  restoreStream(name: string, version: number, deleted: boolean): number {
    const s = this.slotOf(name);
    const was = this.inLog(s);
    this.version[s] = version;
    this.deleted[s] = deleted ? 1 : 0;
    this.lastCommit[s] = NONE;
    if (this.inLog(s) !== was) this.known += was ? -1 : 1;
    return s;
  }

  restoreCommit(slot: number, logPosition: number, firstPosition: number): void {
    const c = this.commits++;
    if (c >= this.commitAt.length) {
      this.commitAt = grown(this.commitAt, c + 1, (n) => new Float64Array(n));
      this.commitFirst = grown(this.commitFirst, c + 1, (n) => new Float64Array(n));
      this.commitPrev = grown(this.commitPrev, c + 1, (n) => new Int32Array(n));
    }
    this.commitAt[c] = logPosition;
    this.commitFirst[c] = firstPosition;
    this.commitPrev[c] = this.lastCommit[slot]!;
    this.lastCommit[slot] = c;
  }
}
