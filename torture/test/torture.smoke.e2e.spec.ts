import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { repoScriptRunner } from '../../scripts/repoScript.js';

/**
 * A short torture run (torture/README.md) on every `npm test`: about one
 * minute with a fixed seed, then half a minute with a random seed printed
 * first, so that a failure can be replayed with
 * `node --conditions=source --import tsx torture/index.ts --minutes 0.5 --seed <seed>`.
 * Node is spawned directly (not through npm), so that SIGTERM reaches the
 * torture itself, which then kills its children and unmounts its tmpfs.
 */
const FIXED_SEED = 85; // its first sessions are streams on the simulated disk, sim, tmpfs, streams in a process, process: every part runs within the minute

const run = repoScriptRunner();

function torture(minutes: number, seed: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run('torture/index.ts', ['--minutes', String(minutes), '--seed', String(seed)]);
}

/** The figures block and every problem line, for the assertion message. */
function summary(stdout: string): string {
  const start = stdout.indexOf('==================== episteme torture: figures');
  return start >= 0 ? stdout.slice(start) : stdout.slice(-4000);
}

describe('torture smoke run', () => {
  it(`survives one minute with the fixed seed ${FIXED_SEED}, no invariant violated`, { timeout: 300_000 }, async () => {
    const { code, stdout, stderr } = await torture(1, FIXED_SEED);
    expect(code, `${summary(stdout)}\nstderr:\n${stderr.slice(-2000)}`).toBe(0);
    expect(stdout).toMatch(/invariant violations\s+0$/m);
    expect(stdout).toMatch(/checks after a crash\s+[1-9]/);
    expect(stdout).toContain(`OK: no invariant violated (seed ${FIXED_SEED})`);
  });

  it('survives half a minute with a random seed (printed for replay)', { timeout: 240_000 }, async () => {
    const seed = randomInt(0, 2 ** 32 - 1);
    console.log(`torture smoke: random seed ${seed} (replay: node --conditions=source --import tsx torture/index.ts --minutes 0.5 --seed ${seed})`);
    const { code, stdout, stderr } = await torture(0.5, seed);
    expect(code, `seed ${seed}\n${summary(stdout)}\nstderr:\n${stderr.slice(-2000)}`).toBe(0);
    expect(stdout).toMatch(/invariant violations\s+0$/m);
  });
});
