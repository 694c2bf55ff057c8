/**
 * `episteme-wal append` stopped by Ctrl-C or SIGTERM while its stdin is still
 * open: the batch in hand is appended, the journal closed cleanly (no LOCK
 * left), stderr says after which line it stopped, exit 130. In-process with
 * the interrupt injected (CliIO.onInterrupt), then once with a real SIGINT.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal } from '../src/index.js';
import { processInterrupts } from '../src/cli/interrupts.js';
import { runCli } from '../src/cli/main.js';
import { snapshotDir, tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN_TS = resolve(import.meta.dirname, '../src/cli/bin.ts');

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(check(), what).toBe(true);
}

/** The records, read by a writer's open: a clean close leaves nothing for its recovery to cut. */
async function reopen(dir: string): Promise<{ records: string[]; cuts: number }> {
  const journal = await Journal.open({ dir });
  try {
    return { records: journal.readMany(0, 100).map((r) => Buffer.from(r.payload).toString()), cuts: journal.recovery?.cuts.length ?? 0 };
  } finally {
    await journal.close();
  }
}

/** Starts `append` on a stdin that stays open; `stop()` is the Ctrl-C. */
function start(args: string[]): { stdin: PassThrough; stop: () => void; removed: () => boolean; exit: Promise<number>; out: () => string; err: () => string } {
  const stdin = new PassThrough();
  let stop: (() => void) | undefined;
  let removed = false;
  let out = '';
  let err = '';
  const exit = runCli(['append', ...args], {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stderrIsTTY: false,
    stdin,
    onInterrupt: (s) => {
      stop = s;
      return () => void (removed = true);
    },
  });
  return { stdin, stop: () => stop!(), removed: () => removed, exit, out: () => out, err: () => err };
}

describe('episteme-wal append, interrupted', () => {
  it('while stdin is open: the lines before it are in, the open line is not, LOCK removed, exit 130, a clean reopen', async () => {
    const dir = tempDir();
    const run = start([dir]);
    run.stdin.write('one\ntwo\nthr');
    await until(() => run.out() === '0\n43\n', `the first batch was never appended\n${run.err()}`);
    expect(existsSync(join(dir, 'LOCK'))).toBe(true);
    run.stop();
    expect(await run.exit).toBe(130);
    expect(run.out()).toBe('0\n43\n');
    expect(run.err()).toBe('episteme-wal append: interrupted after line 2: lines after it were not appended\n');
    expect(run.stdin.destroyed).toBe(true); // a pipe that stays open does not keep the process alive
    expect(run.removed()).toBe(true); // a later Ctrl-C is the process's again
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    expect(await reopen(dir)).toEqual({ records: ['one', 'two'], cuts: 0 });
  });

  it('before any line came: nothing appended, and an existing journal is left as it was', async () => {
    const dir = tempDir();
    const first = start([dir]);
    first.stdin.end('zero\n');
    expect(await first.exit).toBe(0);
    const before = snapshotDir(dir);
    const run = start([dir]);
    await until(() => existsSync(join(dir, 'LOCK')), 'the journal was never opened');
    run.stop();
    expect(await run.exit).toBe(130);
    expect({ out: run.out(), err: run.err() }).toEqual({ out: '', err: 'episteme-wal append: interrupted before line 1: no line was appended\n' });
    expect(snapshotDir(dir)).toEqual(before);
  });

  it.each([
    ['during the first batch: it is finished and printed, the next chunk is not read, exit 130', '0\n', 130, ['one'], '0\n'],
    ['during the last line, after stdin ended: nothing is left to spare, exit 0', '43\n', 0, ['one', 'two'], '0\n43\n'],
  ])('%s', async (_, printedWhenStopped, code, records, stdout) => {
    const dir = tempDir();
    let stop: (() => void) | undefined;
    let out = '';
    async function* input(): AsyncIterable<string> {
      yield 'one\n';
      yield 'two'; // a last line without a newline: appended once stdin has ended
    }
    const exit = await runCli(['append', dir], {
      stdout: (s) => {
        out += s;
        if (s === printedWhenStopped) stop!();
      },
      stderr: () => undefined,
      stderrIsTTY: false,
      stdin: input(),
      onInterrupt: (s) => ((stop = s), () => undefined),
    });
    expect({ exit, out }).toEqual({ exit: code, out: stdout });
    expect(await reopen(dir)).toEqual({ records, cuts: 0 });
  });

  it('a real SIGINT to the process: exit 130, says how far it got, LOCK removed, the records before it present', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN_TS, 'append', dir], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (code, signal) => r([code, signal])));
    child.stdin.write('x\ny\n');
    await until(() => stdout === '0\n41\n', `no offsets printed\n${stderr}`);
    child.kill('SIGINT');
    expect(await exited).toEqual([130, null]);
    expect(stderr).toBe('episteme-wal append: interrupted after line 2: lines after it were not appended\n');
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    expect(await reopen(dir)).toEqual({ records: ['x', 'y'], cuts: 0 });
  });
});

describe('processInterrupts', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the first SIGINT or SIGTERM calls stop; a second ends the process at once; removing it restores the handlers', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const others = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    for (const [first, second, code] of [['SIGINT', 'SIGINT', 130], ['SIGTERM', 'SIGINT', 130], ['SIGTERM', 'SIGTERM', 143]] as const) {
      const stop = vi.fn();
      const remove = processInterrupts(stop);
      // called directly: emitting the signal would also run the test runner's own handlers
      const handler = (signal: NodeJS.Signals): void => (process.listeners(signal).at(-1) as (s: NodeJS.Signals) => void)(signal);
      handler(first);
      expect(stop).toHaveBeenCalledTimes(1);
      expect(exit).not.toHaveBeenCalled();
      handler(second);
      expect(exit).toHaveBeenCalledWith(code);
      remove();
      expect({ SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') }).toEqual(others);
      exit.mockClear();
    }
  });
});
