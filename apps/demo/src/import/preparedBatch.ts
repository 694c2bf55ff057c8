import { prepareLine, type PreparedLine } from '../domain/prepareLine.js';

/**
 * The outcome of preparing a run of import lines, as it crosses from an
 * import worker to the main thread: every payload in one buffer (one
 * transfer, no copy per line), each line either the reason it was refused
 * or `[id, givenId, start, end]` of its payload in `bytes`.
 */
export interface PreparedBatch {
  outcomes: (string | [id: string, givenId: boolean, start: number, end: number])[];
  bytes: Uint8Array;
}

/** Prepares `lines` in order; throws only what prepareLine throws (a bug, not bad input). */
export function prepareBatch(lines: string[], producer: string): PreparedBatch {
  const prepared = lines.map((line) => prepareLine(line, producer));
  let total = 0;
  for (const p of prepared) if (typeof p !== 'string') total += p.payload.length;
  // its own ArrayBuffer, not a view of Buffer's shared pool: it is transferred
  const bytes = new Uint8Array(total);
  let at = 0;
  const outcomes: PreparedBatch['outcomes'] = prepared.map((p) => {
    if (typeof p === 'string') return p;
    bytes.set(p.payload, at);
    at += p.payload.length;
    return [p.id, p.givenId, at - p.payload.length, at];
  });
  return { outcomes, bytes };
}

/** The lines of a batch again: payloads are views into its buffer. */
export function unpackBatch(batch: PreparedBatch): (PreparedLine | string)[] {
  return batch.outcomes.map((o) =>
    typeof o === 'string' ? o : { id: o[0], givenId: o[1], payload: batch.bytes.subarray(o[2], o[3]) },
  );
}
