import { EncodedCommitsBuilder, isStoreError, type EncodedCommits } from '@episteme/store/encoded';
import { prepareLine } from '../domain/prepareLine.js';

/** `commitOf` of a line refused (its reason is in `refused`). */
export const REFUSED = -1;
/**
 * `commitOf` of a valid line whose commit the store refused to encode (a
 * store error, such as an event over the journal's payload limit): the
 * appending thread prepares it again, to fail its batch with that error as
 * the store's append would.
 */
export const AGAIN = -2;

/**
 * A run of import lines prepared: the valid ones as the store's encoded
 * commits (each to its new stream, 'no_stream'), in order, and what became
 * of each line. Typed arrays, a buffer and two short lists, so that a
 * worker posts a run with its buffers transferred, at no cost per line (an
 * object per line cost about 3 µs to post, measured).
 */
export interface PreparedRun {
  commits: EncodedCommits;
  /** Per line of the run: the index of its commit, or REFUSED, AGAIN. */
  commitOf: Int32Array;
  /** Refused lines: their index in the run and why. */
  refused: [index: number, why: string][];
  /** Lines that named their id: index and id (only those can collide). */
  givenIds: [index: number, id: string][];
  /** AGAIN lines: index and text (for the appending thread to prepare them again). */
  again: [index: number, text: string][];
}

/**
 * Prepares `lines` in order with `builder` (one per thread): JSON.parse,
 * the compiled validation, the event, its commit encoded by the store. Throws
 * only what prepareLine throws (a bug, not bad input).
 */
export function prepareRun(lines: readonly string[], producer: string, builder: EncodedCommitsBuilder): PreparedRun {
  const commitOf = new Int32Array(lines.length);
  const refused: PreparedRun['refused'] = [];
  const givenIds: PreparedRun['givenIds'] = [];
  const again: PreparedRun['again'] = [];
  for (let i = 0; i < lines.length; i++) {
    const p = prepareLine(lines[i]!, producer);
    if (typeof p === 'string') {
      commitOf[i] = REFUSED;
      refused.push([i, p]);
      continue;
    }
    const k = builder.size;
    if (!addCommit(builder, p.stream, p.event)) {
      commitOf[i] = AGAIN;
      again.push([i, lines[i]!]);
      continue;
    }
    commitOf[i] = k;
    if (p.givenId) givenIds.push([i, p.id]);
  }
  return { commits: builder.take(), commitOf, refused, givenIds, again };
}

/** Adds a line's commit to its new stream; false when the store refuses to encode it (a store error). */
export function addCommit(builder: EncodedCommitsBuilder, stream: string, event: object): boolean {
  try {
    builder.add(stream, [event as never], 'no_stream');
    return true;
  } catch (err) {
    if (isStoreError(err)) return false;
    throw err;
  }
}

/** The buffers of a run a worker posts: transferred, not copied. */
export function transferList(run: PreparedRun): ArrayBuffer[] {
  return [run.commits.bytes.buffer as ArrayBuffer, run.commits.ends.buffer as ArrayBuffer, run.commits.expected.buffer as ArrayBuffer, run.commitOf.buffer as ArrayBuffer];
}
