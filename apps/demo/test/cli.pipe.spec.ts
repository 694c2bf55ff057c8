/**
 * `episteme ... | head`: the reader closes the pipe after the first lines.
 * That is a normal end of the command (exit 0, nothing on stderr), not a
 * crash with an unhandled EPIPE and a stack trace. The dump is larger than
 * the 4 MiB that processStdout lets queue before it waits for 'drain', so
 * the EPIPE arrives during that wait, not only at a later write.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Journal, nodeFileIO } from '@episteme/wal';
import { loadRecoveryPoint } from '@episteme/wal/internals';
import { StdoutClosedError } from '@episteme/wal/cli';
import { runCli } from '../src/cli/main.js';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, REPO_ROOT, removeTempDirs, STACK_FRAME, tempDir } from './cliHelpers.js';

afterAll(() => removeTempDirs());

describe('episteme output into a pipe that closes early', () => {
  it.each([
    ['episteme --data <d> wal dump', (data: string) => [CLI_ENTRY, '--data', data, 'wal', 'dump']],
    ['episteme --data <d> --json wal dump', (data: string) => [CLI_ENTRY, '--data', data, '--json', 'wal', 'dump']],
    ['episteme-wal dump <d>/journal', (data: string) => [join(REPO_ROOT, 'packages/wal/src/cli/bin.ts'), 'dump', join(data, 'journal')]],
  ])('%s | head -c: exit 0, no EPIPE stack trace', async (_, argv) => {
    const data = tempDir();
    const journal = await Journal.open({ dir: join(data, 'journal'), durability: 'none' });
    // 100,000 records: ~9 MB as text lines, more as JSON, past 4 MiB either way
    const payload = new Uint8Array(64).fill(97);
    for (let i = 0; i < 50; i++) await journal.appendBatch(Array.from({ length: 2000 }, () => payload));
    await journal.close();

    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', ...argv(data)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let got = 0;
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    // like `head -c 100`: read a little, then close the read end of the pipe
    child.stdout.on('data', (d: Buffer) => {
      got += d.length;
      child.stdout.destroy();
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    expect(got).toBeGreaterThan(0);
    expect(stderr).not.toMatch(STACK_FRAME);
    expect(stderr).not.toContain('EPIPE');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});

describe('a write command whose stdout is gone', () => {
  it('stops at its output, closes the app (a clean-close mark, the lock released) and exits 0 without a message', async () => {
    const data = tempDir();
    let stderr = '';
    const code = await runCli(['--data', data, 'assert', '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun'], {
      stdout: () => {
        throw new StdoutClosedError(); // what processStdout throws once the reader went away
      },
      stderr: (s) => void (stderr += s),
      stderrIsTTY: false,
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const dir = join(data, 'journal');
    expect(loadRecoveryPoint(nodeFileIO, dir, 16 << 20).closed).toBeDefined(); // close() ran
    const again = await Journal.open({ dir }); // the writer lock is free
    expect(again.recovery!.lastSegmentTrusted).toBe(true);
    expect(again.head).toBeGreaterThan(0); // the assertion is in
    await again.close();
  });
});
