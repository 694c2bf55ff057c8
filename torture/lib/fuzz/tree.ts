import { createHash } from 'node:crypto';
import { cpSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Rng } from '../rng.js';

/** Every path below `dir` with a hash of its content: equal trees mean nothing changed on disk. */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.set(relative(dir, p) + '/', 'dir');
        walk(p);
      } else if (st.isFile()) {
        out.set(relative(dir, p), createHash('sha1').update(readFileSync(p)).digest('hex'));
      } else {
        out.set(relative(dir, p), `other:${st.mode}`);
      }
    }
  };
  walk(dir);
  return out;
}

/** The paths that differ between two snapshots (added, removed or changed). */
export function treeDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const diff: string[] = [];
  for (const [p, h] of before) if (after.get(p) !== h) diff.push(after.has(p) ? `changed ${p}` : `removed ${p}`);
  for (const p of after.keys()) if (!before.has(p)) diff.push(`added ${p}`);
  return diff;
}

/** Replaces `dir` with a fresh copy of `pristine`. */
export function restore(pristine: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  cpSync(pristine, dir, { recursive: true });
}

/**
 * A command-line word that cannot reach outside the fuzz directory: the
 * fuzz runs with that directory as its cwd, and absolute paths and `..` are
 * defused (the point is bad input, not a tool deleting the host's files).
 */
export function safeWord(word: string): string {
  let w = word.replace(/\.\./g, '._');
  if (w.startsWith('/') || w.startsWith('~')) w = `./${w.replace(/^[/~]+/, '')}`;
  if (/^[A-Za-z]:/.test(w)) w = `./${w}`;
  return w;
}

export function randomWord(rng: Rng): string {
  const pool = 'abcdefghijklmnopqrstuvwxyz0123456789-_=./ \u00e9\u0000%*?"\'\\$';
  let w = '';
  for (let i = rng.int(0, 12); i > 0; i--) w += pool[rng.int(0, pool.length - 1)];
  return w;
}
