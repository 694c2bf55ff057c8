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
  /** Moved to the archive directory by cleanup (`path` is there): read, never deleted or moved again. */
  archived?: boolean;
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

  /**
   * Replaces the list (after recovery or a read-only refresh), keeping open
   * fds of segments that remain where they were. `archived`: segments in an
   * archive directory, before the live ones (a reader following a writer
   * that archives).
   */
  reset(bases: number[], archived: readonly { base: number; name: string; path: string }[] = []): void {
    const old = new Map(this.list.map((s) => [s.base, s]));
    const keep = (base: number, path: string | undefined): Segment | undefined => {
      const kept = old.get(base);
      if (!kept || (path !== undefined && kept.path !== path) || (path === undefined && kept.archived)) return undefined;
      old.delete(base);
      return kept;
    };
    const live = [...bases].sort((a, b) => a - b).map((base) => keep(base, undefined) ?? this.make(base));
    const moved = archived.map((f) => keep(f.base, f.path) ?? { base: f.base, name: f.name, path: f.path, archived: true });
    this.list = [...moved, ...live];
    for (const gone of old.values()) this.closeSegment(gone);
  }

  /** Puts archived segments (oldest first, ending where the first live one starts) before the live ones. */
  prependArchived(files: readonly { base: number; name: string; path: string }[]): void {
    this.list = [...files.map((f) => ({ base: f.base, name: f.name, path: f.path, archived: true })), ...this.list];
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
