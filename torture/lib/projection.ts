import { createHash } from 'node:crypto';
import type { Projection } from '@episteme/projections';

/**
 * The projection every torture session runs: a tally of the log whose state
 * depends on every record, its offset and its order (a hash chain), so that
 * a missing, extra, reordered or twice-applied record changes it.
 */
export interface TallyState {
  n: number;
  bytes: number;
  /** Records per (cycle, writer task). */
  perWriter: Record<string, number>;
  /** FNV-1a over (offset, canonical event JSON) of every record in order. */
  chain: number;
}

export const TALLY_NAME = 'tally';
export const TALLY_CONSUMER = `projection.${TALLY_NAME}`;

export function initialTally(): TallyState {
  return { n: 0, bytes: 0, perWriter: {}, chain: 0x811c9dc5 };
}

/** One step of the fold; the engine and the independent check both use it. */
export function applyTally(state: TallyState, event: unknown, offset: number): TallyState {
  const text = JSON.stringify(event);
  const e = event as { c?: unknown; w?: unknown };
  const key = `${String(e.c)}.${String(e.w)}`;
  state.n++;
  state.bytes += text.length;
  state.perWriter[key] = (state.perWriter[key] ?? 0) + 1;
  let h = state.chain;
  const feed = `${offset}:${text};`;
  for (let i = 0; i < feed.length; i++) {
    h ^= feed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  state.chain = h;
  return state;
}

export const tallyProjection: Projection<TallyState, unknown> = {
  name: TALLY_NAME,
  version: 1,
  initialState: initialTally,
  apply: (state, event, meta) => applyTally(state, event, meta.offset),
};

/** SHA-256 of the state as canonical JSON (keys sorted at every level). */
export function canonicalHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
