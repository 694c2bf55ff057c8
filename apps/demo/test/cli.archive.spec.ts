/**
 * The app turns cleanup on, into `<data>/archive`: with small segments the
 * segments every projection passed move there, and reads, queries,
 * rebuilds and backups go on through the archive.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli as runWalCli } from '@episteme/wal/cli';
import { cli, json, removeTempDirs, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

const wal = (d: string): string[] => readdirSync(d).filter((n) => n.endsWith('.wal'));
const env = { EPISTEME_SEGMENT_BYTES: '1024' };

describe('the app archives what every consumer passed', () => {
  it('moves segments to <data>/archive; queries, streams, a rebuild from offset 0 and a backup read through it', async () => {
    const data = tempDir();
    // twelve imports of 5 lines: an import appends a batch in one journal write, which never splits across segments
    for (let run = 0; run < 12; run++) {
      const input = join(tempDir(), `in-${run}.ndjson`);
      writeFileSync(input, Array.from({ length: 5 }, (_, k) => 5 * run + k).map((i) => JSON.stringify({ subject: `s${i}`, predicate: 'is', object: `o${i}`, confidence: 0.5, source: 't' }) + '\n').join(''));
      expect((await cli(['--data', data, 'import', input], env)).code).toBe(0);
    }
    expect(wal(join(data, 'journal')).length).toBeGreaterThan(10);
    // a rebuild saves each projection's snapshot and moves its cursor: once both have passed them, cleanup moves segments to the archive
    for (const p of ['beliefs', 'stats']) expect((await cli(['--data', data, 'projections', 'rebuild', p], env)).code).toBe(0);
    expect(wal(join(data, 'archive')).length).toBeGreaterThan(10);
    expect(wal(join(data, 'journal')).length).toBeLessThan(3);
    const beliefs = (await cli(['--data', data, '--json', 'beliefs', 's0'], env)).stdout;
    expect(json<unknown[]>(beliefs)).not.toEqual([]);
    const streams = json<{ stream: string }[]>((await cli(['--data', data, '--json', 'streams', 'list'], env)).stdout);
    const first = await cli(['--data', data, '--json', 'streams', 'show', streams[0]!.stream], env);
    expect(first.code, first.stderr).toBe(0);
    const rebuilt = await cli(['--data', data, 'projections', 'rebuild', 'beliefs'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect((await cli(['--data', data, '--json', 'beliefs', 's0'], env)).stdout).toBe(beliefs);
    // a backup holds the archived history: restored without an archive, the same beliefs
    const dest = join(tempDir(), 'b');
    expect((await cli(['--data', data, 'backup', dest], env)).code).toBe(0);
    const restored = tempDir();
    const code = await runWalCli(['restore', join(dest, 'journal'), join(restored, 'journal')], { stdout: () => {}, stderr: () => {}, stderrIsTTY: false });
    expect(code).toBe(0);
    expect((await cli(['--data', restored, 'projections', 'rebuild', 'beliefs'], env)).code).toBe(0);
    expect((await cli(['--data', restored, '--json', 'beliefs', 's0'], env)).stdout).toBe(beliefs);
  });
});
