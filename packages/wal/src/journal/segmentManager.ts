import { join } from 'node:path';
import { ioError } from '../errors.js';
import { HEADER_SIZE } from '../format/constants.js';
import { segmentName } from '../format/segmentName.js';
import { closeQuietly } from '../io/closers.js';
import type { FileIO } from '../io/fileIO.js';
import { FileWindow } from '../io/fileWindow.js';
import type { RecordChunk } from './recordChunks.js';

/** One segment file as the journal tracks it. */
export interface Segment {
  base: number;
  name: string;
  path: string;
  /** Read-only descriptor, opened on first read and kept until the segment goes. */
  fd?: number;
  /** A read window over `fd`, reused by sequential readers. */
  window?: FileWindow;
  /** The chunk sequential readers took their last records from (recordChunks.ts). */
  chunk?: RecordChunk;
  /** Counts the times its read bytes were dropped (dropReadBytes): a transient reader's buffer holds this segment's bytes only for the count it read them at. */
  dropped?: number;
}

/**
 * The sorted list of a journal's segments. Segment i covers global offsets
 * [base_i, base_{i+1}); the last one (the active segment) ends at the head,
 * which the journal tracks. Lookups are binary searches over the bases.
 */
export class SegmentManager {
  private list: Segment[] = [];

  constructor(private readonly io: FileIO, readonly dir: string) {}

  get segments(): readonly Segment[] {
    return this.list;
  }

  get count(): number {
    return this.list.length;
  }

  get first(): Segment | undefined {
    return this.list[0];
  }

  get last(): Segment | undefined {
    return this.list[this.list.length - 1];
  }

  /** Replaces the list (after recovery or a read-only refresh), keeping open fds of segments that remain. */
  reset(bases: number[]): void {
    const old = new Map(this.list.map((s) => [s.base, s]));
    this.list = [...bases].sort((a, b) => a - b).map((base) => {
      const kept = old.get(base);
      old.delete(base);
      return kept ?? this.make(base);
    });
    for (const gone of old.values()) this.closeSegment(gone);
  }

  add(base: number): Segment {
    const seg = this.make(base);
    this.list.push(seg);
    return seg;
  }

  /** Index of the segment holding `offset`: the last one whose base is <= offset, or -1. */
  indexOf(offset: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.base <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  find(offset: number): Segment | undefined {
    const i = this.indexOf(offset);
    return i < 0 ? undefined : this.list[i];
  }

  /** The offset where segment `i` ends: the next base, or `head` for the last one. */
  endOf(i: number, head: number): number {
    return this.list[i + 1]?.base ?? head;
  }

  /** A read-only fd for the segment, opened once. */
  fdOf(seg: Segment): number {
    if (seg.fd === undefined) {
      try {
        seg.fd = this.io.open(seg.path, 'r');
      } catch (err) {
        throw ioError('opening', seg.path, err);
      }
    }
    return seg.fd;
  }

  /** File position of a global offset inside a segment. */
  static position(seg: Segment, offset: number): number {
    return HEADER_SIZE + (offset - seg.base);
  }

  /**
   * The sealed segments whose every record is below `offset` (never the
   * last one), oldest first. They stay in the list: the caller deletes each
   * file, then drops it with `removeFirst`, so that a failed unlink leaves the
   * list and the directory in agreement.
   */
  below(offset: number): Segment[] {
    let n = 0;
    while (n < this.list.length - 1 && this.list[n + 1]!.base <= offset) n++;
    return this.list.slice(0, n);
  }

  /** Drops the oldest segment from the list (its file was deleted). */
  removeFirst(): void {
    const seg = this.list.shift();
    if (seg) this.closeSegment(seg);
  }

  /** [base, file size] of every sealed segment (all but the last), from the contiguous bases. */
  sealedSizes(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i + 1 < this.list.length; i++) out.push([this.list[i]!.base, this.list[i + 1]!.base - this.list[i]!.base + HEADER_SIZE]);
    return out;
  }

  closeAll(): void {
    for (const seg of this.list) this.closeSegment(seg);
  }

  private make(base: number): Segment {
    const name = segmentName(base);
    return { base, name, path: join(this.dir, name) };
  }

  private closeSegment(seg: Segment): void {
    if (seg.fd !== undefined) {
      closeQuietly(this.io, seg.fd); // closing a read descriptor cannot lose data
      seg.fd = undefined;
      dropReadBytes(seg);
    }
  }
}

/** Forgets the bytes read from `seg` (its file was closed, or its tail rewritten): windows, chunks, transient buffers. */
export function dropReadBytes(seg: Segment): void {
  seg.window = undefined;
  seg.chunk = undefined;
  seg.dropped = (seg.dropped ?? 0) + 1;
}
