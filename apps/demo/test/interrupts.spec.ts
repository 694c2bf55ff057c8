import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventDecoder } from '@episteme/store';
import { Journal } from '@episteme/wal';
import { runCli } from '../src/cli/main.js';
import { CLI_ENTRY, REPO_ROOT, json, recordBytes, removeTempDirs, tempDir } from './cliHelpers.js';

afterAll(removeTempDirs);

/** Lines `from`..`from+count-1` (numbered from 1 in the input); every 7th is invalid. */
function lines(from: number, count: number): string {
  let s = '';
  for (let i = from; i < from + count; i++) {
    s += i % 7 === 0 ? '{"subject": "torn\n' : JSON.stringify({ subject: `s${i}`, predicate: 'p', object: `o${i}`, confidence: 0.5, source: 'pipe', id: `line-${i}` }) + '\n';
  }
  return s;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(await check(), what).toBe(true);
}

/** The ids of the assertions in the journal, in order. */
async function ids(data: string): Promise<string[]> {
  const journal = await Journal.openForRead({ dir: join(data, 'journal') });
  try {
    const out: string[] = [];
    const decoder = createEventDecoder();
    for await (const r of journal.readFrom(journal.earliest)) for (const e of decoder.eventsOf(r)) out.push((e.data as { id: string }).id);
    return out;
  } finally {
    await journal.close();
  }
}

function idsOfValidLines(upTo: number): string[] {
  return Array.from({ length: upTo }, (_, i) => i + 1)
    .filter((i) => i % 7 !== 0)
    .map((i) => `line-${i}`);
}

describe('import - from a pipe that pauses, then Ctrl-C', () => {
  it('appends what the pipe sent without waiting for 1000 lines; on interrupt ends with 130 and names the line to resume from', { timeout: 60_000 }, async () => {
    const data = tempDir();
    const stdin = new PassThrough();
    let stop: (() => void) | undefined;
    let out = '';
    let err = '';
    const exit = runCli(['--data', data, '--json', 'import', '-'], {
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
      stderrIsTTY: false,
      stdin,
      onInterrupt: (s) => {
        stop = s;
        return () => (stop = undefined);
      },
    });
    stdin.write(lines(1, 40));
    // 35 valid lines: appended while the pipe stays open (before, they waited for a batch of 1000)
    // (a reader sees records once the writer has synced and published them)
    await until(async () => recordBytes(join(data, 'journal')) > 0 && (await ids(data)).length === 35, `the lines sent so far were never appended\n${err}`);
    expect(await ids(data)).toEqual(idsOfValidLines(40));
    stdin.write(lines(41, 60));
    await until(() => err.includes('line 98:'), `line 98 was never reported\n${err}`);
    stop!();
    const code = await exit;
    expect(code, err).toBe(130);
    expect(json(out)).toMatchObject({ interrupted: true, resumeFromLine: 101, lines: 100, records: 86, invalid: 14 });
    expect(await ids(data)).toEqual(idsOfValidLines(100));
    expect(stop).toBeUndefined(); // the handler was removed: a later Ctrl-C is the process's again
  });

  it('a real SIGINT: exit 130, the summary says where to resume, every line before it is in', { timeout: 60_000 }, async () => {
    const data = tempDir();
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI_ENTRY, '--data', data, 'import', '-'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin.on('error', () => undefined);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    try {
      child.stdin.write(lines(1, 70)); // never ended
      await until(() => stderr.includes('line 70:'), `line 70 was never reported\n${stderr}`);
      await until(() => recordBytes(join(data, 'journal')) > 0, 'nothing appended');
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stdout).toMatch(/^imported 60 assertions from 70 lines .*; 10 invalid lines skipped; interrupted before line 71: import again from there\n$/);
      expect(await ids(data)).toEqual(idsOfValidLines(70));
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('projections rebuild, then Ctrl-C', () => {
  it('stops, saves nothing of the rebuild, keeps the previous snapshot byte for byte, says so, exit 130', { timeout: 60_000 }, async () => {
    const data = tempDir();
    const stdin = new PassThrough();
    stdin.end(lines(1, 50));
    expect(await runCli(['--data', data, 'import', '-'], { stdout: () => undefined, stderr: () => undefined, stderrIsTTY: false, stdin })).toBe(1); // every 7th line is invalid
    expect(await runCli(['--data', data, 'projections', 'rebuild', 'stats'], { stdout: () => undefined, stderr: () => undefined, stderrIsTTY: false })).toBe(0);
    const snapshot = join(data, 'journal', 'projections', 'stats.snapshot');
    const before = readFileSync(snapshot);
    let out = '';
    let err = '';
    let removed = false;
    const code = await runCli(['--data', data, 'projections', 'rebuild', 'stats'], {
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
      stderrIsTTY: false,
      // Ctrl-C as soon as the command listens for it: before the rebuild's first batch
      onInterrupt: (stop) => {
        stop();
        return () => void (removed = true);
      },
    });
    expect(code, err).toBe(130);
    expect(out).toBe("rebuild of stats interrupted: nothing of it was saved, the projection's previous snapshot stays; run it again to rebuild\n");
    expect(readFileSync(snapshot).equals(before)).toBe(true);
    expect(removed).toBe(true);
  });
});
