import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Journal } from '@episteme/wal';
import type { Projection } from '../src/index.js';

const made: string[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'episteme-projections-'));
  made.push(dir);
  return dir;
}

export function later(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

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
  return Promise.all(events.map((e) => journal.append(encode(e))));
}

/** A canonical hash of JSON-able state: key order does not matter. */
export function canonicalHash(value: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canon(value))).digest('hex');
}

export const quiet = { warn: () => undefined, info: () => undefined };
