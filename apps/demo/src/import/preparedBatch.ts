import type { PreparedAssertion } from '../domain/prepare.js';
import { prepareLine } from '../domain/prepareLine.js';

/**
 * An import line ready to append, and its id when the line named one (only
 * those can collide). Prepared on the thread that appends, it is the event
 * itself; from an import worker, its event as JSON (`{type, data,
 * metadata}`, validated; the main thread parses it back for the store, which
 * costs less than posting an object per line).
 */
export type ImportLine = ({ payload: Uint8Array } | { prepared: PreparedAssertion }) & { givenId?: string };

/** Prepares `lines` in order on this thread, for this thread: no encoding, the events as they are. */
export function prepareHere(lines: string[], producer: string): (ImportLine | string)[] {
  return lines.map((line) => {
    const p = prepareLine(line, producer);
    if (typeof p === 'string') return p;
    // a PreparedLine is a PreparedAssertion (with givenId beside it): not copied
    return p.givenId ? { prepared: p, givenId: p.id } : { prepared: p };
  });
}

const encoder = new TextEncoder();

/**
 * The outcome of preparing a run of import lines, shaped for the trip from
 * an import worker to the main thread: two transferred buffers and two short
 * lists, so that cloning costs nothing per valid line (an array of per-line
 * tuples cost about 3 µs per line to post, measured).
 */
export interface PreparedBatch {
  /** End of each line's payload in `bytes` (it starts where the previous valid one ended), or -1 for a refused line. */
  ends: Int32Array;
  bytes: Uint8Array;
  /** Refused lines: their index in the run and why. */
  refused: [index: number, why: string][];
  /** Lines that named their id: index and id. */
  givenIds: [index: number, id: string][];
}

/** Prepares `lines` in order, for another thread; throws only what prepareLine throws (a bug, not bad input). */
export function prepareBatch(lines: string[], producer: string): PreparedBatch {
  const prepared = lines.map((line) => {
    const p = prepareLine(line, producer);
    return typeof p === 'string' ? p : { id: p.id, givenId: p.givenId, payload: encoder.encode(JSON.stringify(p.event)) };
  });
  let total = 0;
  for (const p of prepared) if (typeof p !== 'string') total += p.payload.length;
  // their own ArrayBuffers, not views of Buffer's shared pool: they are transferred
  const bytes = new Uint8Array(total);
  const ends = new Int32Array(lines.length);
  const refused: PreparedBatch['refused'] = [];
  const givenIds: PreparedBatch['givenIds'] = [];
  let at = 0;
  prepared.forEach((p, i) => {
    if (typeof p === 'string') {
      ends[i] = -1;
      refused.push([i, p]);
      return;
    }
    bytes.set(p.payload, at);
    at += p.payload.length;
    ends[i] = at;
    if (p.givenId) givenIds.push([i, p.id]);
  });
  return { ends, bytes, refused, givenIds };
}

/** The lines of a batch again, in order: payloads are views into its buffer. */
export function unpackBatch(batch: PreparedBatch): (ImportLine | string)[] {
  const out: (ImportLine | string)[] = new Array(batch.ends.length);
  let start = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i]!;
    if (end < 0) continue;
    out[i] = { payload: batch.bytes.subarray(start, end) };
    start = end;
  }
  for (const [i, why] of batch.refused) out[i] = why;
  for (const [i, id] of batch.givenIds) (out[i] as ImportLine).givenId = id;
  return out;
}
