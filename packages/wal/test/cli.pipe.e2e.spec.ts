/**
 * `episteme-wal dump | head`: the reader closes the pipe while the dump is
 * still writing. The README promises that this ends the command quietly:
 * exit 0, nothing on stderr. (`append | head` ends quietly too, but only
 * after appending all of its stdin: the last test.)
 *
 * The journal is large enough that the dump's output passes the pause
 * threshold of processStdout (4 MiB queued): the first synchronous scan
 * queues that much before the reader's close is seen, so the command is
 * waiting for 'drain' when the EPIPE arrives. A smaller dump only meets the
 * EPIPE at its next write, which was already handled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyJournal } from '../src/index.js';
import { payloadOf, tempDir, writeJournal } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN_TS = resolve(import.meta.dirname, '../src/cli/bin.ts');

const children: ChildProcess[] = [];
afterEach(() => {
  while (children.length) {
    const child = children.pop()!;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

/** ~9 MB as text lines, ~17 MB as JSON lines: either is past 4 MiB plus a pipe buffer. */
const RECORDS = 100_000;
const PAYLOAD_BYTES = 48;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  got: number;
  stderr: string;
}

/** Runs the CLI from source and, like `head -c`, closes the read end of stdout after the first chunk. */
function runAndCloseStdoutEarly(args: string[], stdin?: string): Promise<Outcome> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN_TS, ...args], {
    cwd: ROOT,
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  if (stdin !== undefined) child.stdin!.end(stdin);
  let got = 0;
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout!.on('data', (d: Buffer) => {
    got += d.length;
    child.stdout!.destroy();
  });
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, got, stderr }));
  });
}

describe('episteme-wal dump into a pipe its reader closes early', () => {
  it.each([
    ['dump', [] as string[]],
    ['dump --json', ['--json']],
  ])('%s | head: exit 0, nothing on stderr, also while waiting for the pipe to drain', async (_, flags) => {
    const dir = tempDir();
    writeJournal(dir, [Array.from({ length: RECORDS }, (_, i) => payloadOf(i, PAYLOAD_BYTES))]);
    const outcome = await runAndCloseStdoutEarly(['dump', dir, ...flags]);
    expect(outcome.got).toBeGreaterThan(0);
    expect({ code: outcome.code, signal: outcome.signal, stderr: outcome.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });
});

describe('episteme-wal append into a pipe its reader closes early', () => {
  it('seq 1 100000 | append | head -1: every line is appended all the same (the offsets are only information), exit 0, nothing on stderr', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const lines = Array.from({ length: RECORDS }, (_, i) => `${i + 1}\n`).join('');
    const outcome = await runAndCloseStdoutEarly(['append', dir], lines);
    expect(outcome.got).toBeGreaterThan(0);
    expect({ code: outcome.code, signal: outcome.signal, stderr: outcome.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(verifyJournal(dir)).toMatchObject({ ok: true, recordsVerified: RECORDS });
  });
});
