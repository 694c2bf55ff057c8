/**
 * A journal directory on a pseudo filesystem: mkdir there answers ENOENT
 * although the parent exists, and Node 20's recursive mkdir retried that
 * forever (`episteme-wal append /proc/x` spun at full CPU and never
 * returned). The open must fail at once with the journal's typed I/O error.
 *
 * Both runs are child processes: the old hang was a synchronous loop, which
 * no timeout inside the test's own thread could interrupt. A hang fails at
 * the per-test timeout, and the child is then killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noProcfs, procPath } from './procfs.js';
import { spawnChild } from './children/spawn.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN_TS = resolve(import.meta.dirname, '../src/cli/bin.ts');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('a journal directory under /proc', () => {
  it('Journal.open rejects with the typed I/O error (WAL_IO, ENOENT) instead of hanging', async (ctx) => {
    const why = noProcfs();
    if (why) {
      ctx.skip(true, why);
      return;
    }
    const dir = procPath();
    const child = spawnChild('opener.ts', [dir]);
    expect(await child.exited).toBe(1);
    expect(child.lines).toEqual([expect.stringMatching(new RegExp(`^refused WAL_IO creating directory ${dir} failed \\(ENOENT\\): `))]);
    expect(child.stderr()).toBe('');
  }, 10_000);

  it('episteme-wal append exits 1 with one line on stderr', async (ctx) => {
    const why = noProcfs();
    if (why) {
      ctx.skip(true, why);
      return;
    }
    const dir = `${procPath()}/journal`;
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN_TS, 'append', dir], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    child.stdin.end('x\n');
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolvePromise) => child.on('close', resolvePromise));
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(/^episteme-wal append: creating directory \/proc\/episteme-test-[0-9a-f]+ failed \(ENOENT\): [^\n]*\n$/);
  }, 10_000);
});
