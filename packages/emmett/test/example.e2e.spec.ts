import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const run = (dir: string): string => {
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, '..', 'examples', 'shoppingCart', 'run.ts'), dir], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

describe('the shopping-cart example', () => {
  it('runs, and a second run on the same store projects only its own carts (the projector resumed from its checkpoint)', () => {
    const dir = tempDir();
    const first = run(dir);
    expect(first).toMatch(/busy: version 21n?,/);
    const second = run(dir);
    const carts = (out: string): string[] => [...out.matchAll(/'(cart-[a-z0-9]+)(-busy)?'/g)].map((m) => m[1]!);
    const firstCarts = new Set(carts(first));
    expect(firstCarts.size).toBe(1);
    expect(carts(second).some((c) => firstCarts.has(c))).toBe(false);
  });
});
