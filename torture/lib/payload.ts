/**
 * Payloads the torture appends: one JSON object without spaces (so that a
 * child can print it on one stdout line), naming the session, cycle, writer
 * task and sequence number, padded to a random length.
 */
export interface PayloadId {
  /** Session number. */
  s: number;
  /** Cycle within the session. */
  c: number;
  /** Appender task. */
  w: number;
  /** Sequence number within the task. */
  i: number;
}

const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function makePayload(id: PayloadId, padLength: number): string {
  let pad = '';
  for (let k = 0; k < padLength; k++) pad += PAD[(id.i * 7 + id.w * 13 + k) % PAD.length];
  return JSON.stringify({ s: id.s, c: id.c, w: id.w, i: id.i, p: pad });
}

export function parsePayload(text: string): (PayloadId & { p: string }) | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v && typeof v === 'object' && [v.s, v.c, v.w, v.i].every((x) => Number.isSafeInteger(x)) && typeof v.p === 'string') {
      return v as unknown as PayloadId & { p: string };
    }
  } catch {
    // not ours
  }
  return undefined;
}
