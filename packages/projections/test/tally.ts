import { createHash } from 'node:crypto';
import type { Journal } from '@episteme/wal';
import type { Projection } from '../src/index.js';

/* Test projection shared by tests and child processes (no vitest import here). */

export interface Ev {
  type: string;
  n: number;
}

export interface Tally {
  count: number;
  total: number;
  byType: Record<string, number>;
  /** Order-sensitive digest of the events applied, so that order bugs show. */
  chain: string;
  lastOffset: number;
}

/** A projection whose state depends on every event, its order and its offset. */
export function tally(version = 1): Projection<Tally, Ev> {
  return {
    name: 'tally',
    version,
    initialState: () => ({ count: 0, total: 0, byType: {}, chain: '', lastOffset: -1 }),
    apply: (s, e, meta) => {
      s.count++;
      s.total += e.n * version;
      s.byType[e.type] = (s.byType[e.type] ?? 0) + 1;
      s.chain = createHash('sha256').update(s.chain).update(Buffer.from(meta.blake3)).digest('hex').slice(0, 16);
      s.lastOffset = meta.offset;
      return s;
    },
  };
}

export function encode(e: Ev): Uint8Array {
  return Buffer.from(JSON.stringify(e));
}

export async function appendEvents(journal: Journal, events: Ev[]): Promise<number[]> {
  return (await Promise.all(events.map((e) => journal.append(encode(e))))).map((a) => a.offset);
}

