/**
 * What an append resolves to: where the record went and its content
 * address, so that a caller never reads its own record back to learn them.
 */
export interface Appended {
  /** Where the record starts. */
  readonly offset: number;
  /** Where the next record starts (the head, right after this append). */
  readonly next: number;
  /** The payload's BLAKE3 digest (32 bytes, the caller's own copy): the record's content address. */
  readonly blake3: Uint8Array;
}
