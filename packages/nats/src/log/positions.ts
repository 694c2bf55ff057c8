/**
 * Positions on a stream: the position after message `seq` is `seq * 65536`.
 * A commit holds up to 65535 events, and the store gives its events the
 * global positions `offset + i`, as on a journal (where offsets are bytes):
 * with room for every event of a commit between two messages' positions,
 * they stay unique and increasing. `seq = position / 65536` is the stream
 * sequence, exactly.
 */
export const POSITION_SCALE = 65_536;

/** The position after message `seq` (its record's `next`). */
export function positionAfter(seq: number): number {
  return seq * POSITION_SCALE;
}

/** The sequence of the last message below `position` (0: before the first). */
export function seqBefore(position: number): number {
  return Math.floor(position / POSITION_SCALE);
}
