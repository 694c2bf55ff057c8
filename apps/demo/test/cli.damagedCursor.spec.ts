/**
 * A damaged cursor file (bit rot in both slots) in an app's data directory:
 * a projection's own cursor is rewritten with a warning, so the app keeps
 * working; any consumer's damaged cursor can be reset or deleted from the CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SLOT_BYTES } from '../../../packages/consumers/src/cursorFile.js';
import { cli, json, tempDir, removeTempDirs, STACK_FRAME } from './cliHelpers.js';

afterEach(removeTempDirs);

function damage(data: string, consumer: string): void {
  const path = join(data, 'journal', 'consumers', `${consumer}.cursor`);
  const bytes = readFileSync(path);
  bytes[20]! ^= 1;
  bytes[SLOT_BYTES + 20]! ^= 1;
  writeFileSync(path, bytes);
}

const assertArgs = (object: string) => ['assert', '--subject', 'earth', '--predicate', 'orbits', '--object', object];

describe('episteme with a damaged cursor file', () => {
  it("a projection's damaged cursor: assert still works, with one warning; the consumers list then shows a valid cursor", async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('sun')])).code).toBe(0);
    damage(data, 'projection.stats');
    const r = await cli(['--data', data, ...assertArgs('moon')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/projection "stats": its cursor file .* was damaged/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const list = await cli(['--data', data, '--json', 'consumers', 'list']);
    expect(list.code).toBe(0);
    const rows = json<Array<{ name: string; state: string; cursor: number }>>(list.stdout);
    expect(rows.find((c) => c.name === 'projection.stats')!.cursor).toBeGreaterThanOrEqual(0);
  });

  it('consumers reset and delete work on a damaged cursor file; the error of other commands says how', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('sun')])).code).toBe(0);
    damage(data, 'projection.beliefs');
    const listed = json<Array<{ name: string; state: string; error?: string }>>((await cli(['--data', data, '--json', 'consumers', 'list'])).stdout);
    expect(listed.find((c) => c.name === 'projection.beliefs')).toMatchObject({ state: 'failed', error: expect.stringMatching(/reset the consumer to a position \(or delete it\)/) });
    const reset = await cli(['--data', data, 'consumers', 'reset', 'projection.beliefs', '--to', 'earliest']);
    expect(reset.code, reset.stderr).toBe(0);
    damage(data, 'projection.beliefs');
    const del = await cli(['--data', data, 'consumers', 'delete', 'projection.beliefs']);
    expect(del.code, del.stderr).toBe(0);
  });
});
