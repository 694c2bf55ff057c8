import type { CursorState } from '@episteme/wal';
import { CURSOR_FILE_BYTES, encodeDurableMarker, MARKER_POSITION, SLOT_BYTES } from './cursorFile.js';

/** Internal to the package (the runner): keeps a consumer's cursor file open for a run's commits (FileCursorStore). */
export const holdForRun: unique symbol = Symbol('episteme.consumers.holdForRun');
/** Internal to the package (the runner): closes what `holdForRun` kept open. */
export const releaseAfterRun: unique symbol = Symbol('episteme.consumers.releaseAfterRun');

/**
 * How many times a cursor file was replaced (renamed over) or removed by
 * any store of this process: a descriptor held since an earlier count is
 * on a file no longer at that path.
 */
const replacements = new Map<string, number>();

export function replacementsOf(path: string): number {
  return replacements.get(path) ?? 0;
}

/** Called before a store renames a new file over `path` or removes it. */
export function replaced(path: string): void {
  replacements.set(path, replacementsOf(path) + 1);
}

/**
 * A cursor file held open for a run's commits: its descriptor, a buffer to
 * read it into, and the bytes this store last left in it (with the state
 * and the next slot they mean), so that a commit that finds them unchanged
 * skips decoding them.
 */
export class HeldFile {
  readonly buf = new Uint8Array(CURSOR_FILE_BYTES + 1);
  /** The slot a commit encodes its state into. */
  readonly slot = new Uint8Array(SLOT_BYTES);
  private readonly image = Buffer.alloc(CURSOR_FILE_BYTES);
  /** Where the next commit writes, what the file holds then: set while `image` is what this store last left in the file. */
  private next: { position: number; seq: number; state: CursorState } | undefined;

  /** @param replacements the file's count of replacements when it was opened (replacementsOf) */
  constructor(
    readonly fd: number,
    readonly replacements: number,
  ) {}

  /** The slot to write next when the `n` bytes read into `buf` are what this store last wrote. */
  known(n: number): { position: number; seq: number; state: CursorState } | undefined {
    if (!this.next || n !== CURSOR_FILE_BYTES || !this.image.equals(this.buf.subarray(0, n))) return undefined;
    return this.next;
  }

  /** After a commit whose sync returned: the file is what was read, with `slot` and the durable marker written over it. */
  remember(slot: { position: number; seq: number }, bytes: Uint8Array, state: CursorState): void {
    this.image.set(this.buf.subarray(0, CURSOR_FILE_BYTES));
    this.image.set(bytes, slot.position);
    this.image.set(encodeDurableMarker(slot.seq), MARKER_POSITION);
    this.next = { position: slot.position === 0 ? SLOT_BYTES : 0, seq: slot.seq + 1, state };
  }
}
