import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

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

export { tally, encode, appendEvents, type Ev, type Tally } from './tally.js';

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

/** Every file under `dir` with a hash of its bytes and its mtime: "nothing on disk changed" is this being equal. */
export function diskImage(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[p] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${st.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}
