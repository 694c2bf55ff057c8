import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyVector, FIXTURES, snapshotDir, tempDir } from './helpers.js';
import { nativeRecordCheck } from '../src/index.js';

// Run from source, no build: tsx is a root devDependency, so `--import tsx`
// resolves with the repository root as the working directory.
const ROOT = resolve(import.meta.dirname, '../../..');
const BIN_TS = resolve(import.meta.dirname, '../src/cli/bin.ts');
const SHIM = resolve(import.meta.dirname, '../bin/episteme-wal.js');

const children: ChildProcess[] = [];
afterEach(() => {
  while (children.length) {
    const child = children.pop()!;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Result> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const cli = (...args: string[]): Promise<Result> => run(['--conditions=source', '--import', 'tsx', BIN_TS, ...args]);

describe('episteme-wal as a process', () => {
  it('verify and dump --json of a golden journal', async () => {
    const [verify, dump] = await Promise.all([cli('verify', join(FIXTURES, 'basic')), cli('dump', join(FIXTURES, 'rotated'), '--json')]);
    expect(verify).toMatchObject({ code: 0, stderr: '' });
    expect(verify.stdout).toMatch(/^ok: 1 segment, 6 records/);
    expect(dump).toMatchObject({ code: 0, stderr: '' });
    const offsets = dump.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { offset: number }).offset);
    expect(offsets).toEqual([0, 50, 110, 180, 225, 265]);
  });

  it('recover of sealed damage: exit 1, JSON error, nothing changed; bad input: exit 2, one line, no stack', async () => {
    const dir = copyVector('sealed-corrupt');
    const before = snapshotDir(dir);
    const [recover, bad] = await Promise.all([cli('recover', dir, '--json'), cli('dump', dir, '--from', '3')]);
    expect(recover.code).toBe(1);
    expect(recover.stderr).toMatch(/^episteme-wal recover: sealed segment [^\n]*\n$/);
    expect(JSON.parse(recover.stdout)).toMatchObject({ error: { code: 'WAL_QUARANTINE', offset: 90 } });
    expect(bad).toMatchObject({ code: 2, stdout: '', stderr: 'episteme-wal dump: offset 3 is not the start of a record\n' });
    expect(snapshotDir(dir)).toEqual(before);
  });

  // the version comes from package.json, found relative to the module: from
  // src/cli (tsx) and from dist/cli (the published bin) alike
  const VERSION_LINE = `episteme-wal ${(JSON.parse(readFileSync(join(ROOT, 'packages/wal/package.json'), 'utf8')) as { version: string }).version} (journal format v2, Node ${process.version}, native record check ${nativeRecordCheck().loaded ? 'on' : `off: ${nativeRecordCheck().why.split(' (')[0]}`})\n`;

  it('--version prints the version, the journal format and Node, anywhere on the line', async () => {
    const [alone, withCommand] = await Promise.all([cli('--version'), cli('verify', join(FIXTURES, 'basic'), '--version')]);
    expect(alone).toEqual({ code: 0, stdout: VERSION_LINE, stderr: '' });
    expect(withCommand).toEqual({ code: 0, stdout: VERSION_LINE, stderr: '' });
  });

  it.skipIf(!existsSync(resolve(import.meta.dirname, '../dist/cli/bin.js')))('--version of the built bin (dist/, as npm installs it)', async () => {
    expect(await run([SHIM, '--version'])).toEqual({ code: 0, stdout: VERSION_LINE, stderr: '' });
  });

  it('the committed bin shim explains what to do when dist/ is missing', async () => {
    const pkg = tempDir();
    mkdirSync(join(pkg, 'bin'));
    copyFileSync(SHIM, join(pkg, 'bin', 'episteme-wal.js'));
    // a package.json with "type": "module" is what makes the shim ESM, as in the real package
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}');
    const r = await run([join(pkg, 'bin', 'episteme-wal.js'), 'verify', join(FIXTURES, 'basic')]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^episteme-wal: .*npm run build[^\n]*\n$/);
  });
});
