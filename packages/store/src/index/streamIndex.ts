/**
 * The stream index: for each stream, its version and where its commits are
 * in the log. It is a fold of the log (`applyCommit`, `applyTombstone` in log
 * order), so it can always be rebuilt from the log; the checkpoint file only
 * saves the open from replaying what it already covers.
 */

export interface StreamEntry {
  /** Events in the stream since it was (re)created; 0 after a delete. */
  version: number;
  deleted: boolean;
  /**
   * The stream's commits since it was (re)created, interleaved:
   * `[logPosition, firstStreamPosition, logPosition, firstStreamPosition, ...]`
   * (one flat array of numbers: two slots per commit, no object per commit).
   */
  commits: number[];
}

/** Where the index stands in the log, so a checkpoint can be checked against it. */
export interface IndexHead {
  /** The log position after the last record folded (where the tail to replay starts). */
  head: number;
  /** Position and BLAKE3 of the last record folded (undefined before any). */
  lastRecord: number;
  lastDigest: Uint8Array | undefined;
}

export class StreamIndex {
  readonly streams = new Map<string, StreamEntry>();
  head = 0;
  lastRecord = -1;
  lastDigest: Uint8Array | undefined;

  get(stream: string): StreamEntry | undefined {
    return this.streams.get(stream);
  }

  /** The stream's version as reads see it (0 when absent or deleted). */
  versionOf(stream: string): number {
    const e = this.streams.get(stream);
    return e === undefined || e.deleted ? 0 : e.version;
  }

  applyCommit(stream: string, logPosition: number, firstPosition: number, count: number): void {
    let e = this.streams.get(stream);
    if (e === undefined) {
      e = { version: 0, deleted: false, commits: [] };
      this.streams.set(stream, e);
    }
    if (e.deleted) {
      // the first commit after a tombstone starts the stream again
      e.deleted = false;
      e.version = 0;
      e.commits = [];
    }
    e.commits.push(logPosition, firstPosition);
    e.version = firstPosition + count - 1;
  }

  applyTombstone(stream: string): void {
    const e = this.streams.get(stream);
    if (e === undefined) this.streams.set(stream, { version: 0, deleted: true, commits: [] });
    else {
      e.deleted = true;
      e.version = 0;
      e.commits = [];
    }
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
   */
  commitsCovering(stream: string, from: number, to: number): Array<[number, number, number]> {
    const e = this.streams.get(stream);
    if (e === undefined || e.deleted || from > to) return [];
    const c = e.commits;
    const n = c.length / 2;
    // binary search: the last commit whose first position is <= from
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (c[mid * 2 + 1]! <= from) lo = mid;
      else hi = mid - 1;
    }
    const out: Array<[number, number, number]> = [];
    for (let i = lo; i < n; i++) {
      const first = c[i * 2 + 1]!;
      if (first > to) break;
      const end = i + 1 < n ? c[(i + 1) * 2 + 1]! : e.version + 1;
      out.push([c[i * 2]!, first, end - first]);
    }
    return out;
  }
}
