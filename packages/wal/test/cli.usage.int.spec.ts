import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../src/cli/args.js';
import { segmentIndexFor } from '../src/cli/commands/dump.js';
import { runCli, type CliIO } from '../src/cli/main.js';
import { ProgressLine } from '../src/cli/progress.js';
import { copyVector, FIXTURES, snapshotDir, tempDir } from './helpers.js';

// In-process runs of the CLI for what is not about a journal's content:
// usage errors and bad input, help, the progress line, and the parser.

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], io: Partial<CliIO> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    stderrIsTTY: false,
    ...io,
  });
  return { code, stdout, stderr };
}

const expectOneLine = (s: string): void => expect(s).toMatch(/^[^\n]+\n$/);

describe('bad input: exit 2, one line on stderr, nothing on stdout (one JSON document with --json), nothing changed', () => {
  const file = (dir: string): string => {
    writeFileSync(join(dir, 'plain.txt'), 'x');
    return join(dir, 'plain.txt');
  };
  it.each<[string, (dir: string, scratch: string) => string[], RegExp]>([
    ['no command', () => [], /missing command/],
    ['unknown command', (d) => ['frobnicate', d], /unknown command "frobnicate"/],
    ['unknown flag', (d) => ['dump', d, '--bogus'], /unknown flag --bogus/],
    ['unknown short flag', (d) => ['verify', d, '-x'], /unknown flag -x/],
    ['unknown flag before the command', () => ['--bogus'], /unknown flag --bogus/],
    ['--json alone', () => ['--json'], /missing command/],
    ['--json before a command without it', (d) => ['--json', 'append', d], /append has no --json/],
    ['missing dir', () => ['segments'], /missing argument <dir>/],
    ['extra argument', (d) => ['verify', d, 'extra'], /unexpected argument "extra"/],
    ['absent dir', (_, s) => ['verify', join(s, 'nope')], /is not a journal directory: no such directory/],
    ['a file, not a dir', (_, s) => ['dump', file(s)], /not a directory/],
    ['empty dir (recover)', (_, s) => ['recover', s], /holds no segment files/],
    ['absent dir (recover --repair)', (_, s) => ['recover', join(s, 'nope'), '--repair'], /no such directory/],
    ['dir of other files (segments)', (_, s) => (file(s), ['segments', s]), /holds no segment files/],
    ['--from -1', (d) => ['dump', d, '--from', '-1'], /--from must be a non-negative integer, got "-1"/],
    ['--from 3 (not a boundary)', (d) => ['dump', d, '--from', '3'], /offset 3 is not the start of a record/],
    ['--from inside the last record', (d) => ['dump', d, '--from', '1000'], /offset 1000 is not the start of a record/],
    ['--from beyond the head', (d) => ['dump', d, '--from', '1659'], /offset 1659 is outside the retained log \[0, 1658\]/],
    ['--from without a value', (d) => ['dump', d, '--from'], /--from needs a value <offset>/],
    ['--from followed by a flag', (d) => ['dump', d, '--from', '--json'], /--from needs a value <offset> \(got the flag --json/],
    ['--limit abc', (d) => ['dump', d, '--limit', 'abc'], /--limit must be a non-negative integer, got "abc"/],
    ['--from past 2^53', (d) => ['dump', d, '--from', '99999999999999999999'], /--from is too large: at most 9007199254740991, got 99999999999999999999/],
    ['--max-payload-bytes past a u32', (d) => ['verify', d, '--max-payload-bytes', '4294967296'], /--max-payload-bytes must be between 1 and 4294967295, got 4294967296/],
    ['--max-payload-bytes 0', (d) => ['dump', d, '--max-payload-bytes', '0'], /--max-payload-bytes must be between 1 and 4294967295, got 0/],
    ['--limit 1.5', (d) => ['dump', d, '--limit', '1.5'], /--limit must be a non-negative integer/],
    ['--limit twice', (d) => ['dump', d, '--limit', '1', '--limit', '2'], /--limit given more than once/],
    ['--json=yes', (d) => ['segments', d, '--json=yes'], /--json takes no value/],
    ['--repair on verify', (d) => ['verify', d, '--repair'], /unknown flag --repair/],
    ['help for an unknown command', () => ['help', 'nope'], /unknown command "nope"/],
  ])('%s', async (_, argv, message) => {
    const dir = copyVector('basic');
    const scratch = tempDir();
    const args = argv(dir, scratch);
    const before = [snapshotDir(dir), snapshotDir(scratch)];
    const r = await cli(args);
    expect(r.code).toBe(2);
    if (args.includes('--json')) {
      expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'CLI_USAGE', message: expect.stringMatching(message) } });
    } else {
      expect(r.stdout).toBe('');
    }
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/^episteme-wal( \w+)?: /);
    expect(r.stderr).toMatch(message);
    expect([snapshotDir(dir), snapshotDir(scratch)]).toEqual(before);
  });

  it('--json before the command is the same as after it', async () => {
    const dir = copyVector('basic');
    // verify's document carries its duration: compared without it
    const timeless = (r: { code: number; stdout: string; stderr: string }) => ({ ...r, stdout: r.stdout.replace(/"durationMs":[0-9.e+-]+/g, '"durationMs":0') });
    for (const command of [['segments', dir], ['dump', dir], ['verify', dir]]) {
      const after = timeless(await cli([...command, '--json']));
      expect(after.code, command.join(' ')).toBe(0);
      expect(after.stdout.startsWith('{'), command.join(' ')).toBe(true);
      expect(timeless(await cli(['--json', ...command])), command.join(' ')).toEqual(after);
      expect(timeless(await cli(['--json', ...command, '--json'])), command.join(' ')).toEqual(after);
    }
  });

  it('--json reports bad input as one JSON document on stdout too, with the message of stderr', async () => {
    const r = await cli(['recover', join(tempDir(), 'nope'), '--json']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr);
    expectOneLine(r.stdout);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('WAL_NOT_A_JOURNAL');
    expect(`episteme-wal recover: ${error.message}\n`).toBe(r.stderr);
    // a usage error found before any parse, and the flag after `--` (a positional) is not --json
    expect(JSON.parse((await cli(['--json'])).stdout)).toEqual({ error: { code: 'CLI_USAGE', message: 'missing command' } });
    expect((await cli(['dump', '--bogus', '--', '--json'])).stdout).toBe('');
  });

  it('no stack trace unless --debug', async () => {
    const missing = join(tempDir(), 'nope');
    const quiet = await cli(['verify', missing]);
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    const loud = await cli(['verify', missing, '--debug']);
    expect(loud.code).toBe(2);
    expect(loud.stderr).toMatch(/^episteme-wal verify: .*\n.*NotAJournalError[^\n]*\n\s+at /s);
  });

  it('a directory named like a segment is not a segment', async () => {
    const dir = copyVector('basic');
    mkdirSync(join(dir, '0000000000010000.wal'));
    expect((await cli(['verify', dir])).code).toBe(0);
    expect(JSON.parse((await cli(['segments', dir, '--json'])).stdout).segments).toHaveLength(1);
  });
});

describe('help', () => {
  it.each([[['--help']], [['-h']], [['help']], [['help', 'dump']], [['dump', '--help']], [['recover', '-h', '--repair']]])('%j prints usage, exit 0', async (argv) => {
    const r = await cli(argv);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^(episteme-wal: |Usage: episteme-wal)/);
  });

  it('lists every command and flag', async () => {
    const main = await cli(['help']);
    for (const c of ['segments', 'dump', 'verify', 'recover']) expect(main.stdout).toMatch(new RegExp(`^  ${c} <dir>`, 'm'));
    const dump = await cli(['help', 'dump']);
    expect(dump.stdout).toContain('Usage: episteme-wal dump <dir> [--from <offset>] [--limit <n>] [--json]');
  });
});

describe('progress on a terminal', () => {
  const ticking = (): (() => number) => {
    let t = 0;
    return () => (t += 250);
  };

  it('redraws one line with \\r on stderr and clears it at the end', async () => {
    const r = await cli(['verify', join(FIXTURES, 'rotated')], { stderrIsTTY: true, now: ticking() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\rverify +\d+%  0000000000000000\.wal/);
    expect(r.stderr).toMatch(/\r {10,}\r$/);
    expect(r.stderr).not.toContain('\n');
    expect(r.stdout).toMatch(/^ok: /);
    const recover = await cli(['recover', copyVector('rotated')], { stderrIsTTY: true, now: ticking() });
    expect(recover.stderr).toMatch(/^\rrecover /);
  });

  it('stays silent with --json or when stderr is not a terminal', async () => {
    expect((await cli(['verify', join(FIXTURES, 'rotated'), '--json'], { stderrIsTTY: true, now: ticking() })).stderr).toBe('');
    expect((await cli(['verify', join(FIXTURES, 'rotated')], { now: ticking() })).stderr).toBe('');
  });

  it('draws at most once per interval', () => {
    let out = '';
    let t = 0;
    const line = new ProgressLine((s) => (out += s), 'verify', () => t);
    for (t = 0; t <= 1000; t += 10) line.update({ segment: 'x.wal', bytesDone: t, bytesTotal: 1000 });
    expect(out.split('\r').length - 1).toBe(10);
    line.clear();
    expect(out.endsWith('\r')).toBe(true);
  });
});

describe('pieces', () => {
  it('parseArgs: --name=value, -- ends flags, a value may start with -', () => {
    const spec = {
      positionals: [{ name: 'dir', description: '' }],
      flags: { from: { type: 'integer', description: '' }, json: { type: 'boolean', description: '' } },
    } as const;
    expect(parseArgs(['--from=7', 'd'], spec)).toEqual({ positionals: ['d'], flags: { from: 7, json: false } });
    expect(parseArgs(['--json', '--', '--weird-dir'], spec)).toEqual({ positionals: ['--weird-dir'], flags: { from: undefined, json: true } });
    expect(() => parseArgs(['d', '--from', '-5'], spec)).toThrow(UsageError);
    expect(() => parseArgs(['d', '--from', '9007199254740993'], spec)).toThrow(/--from is too large: at most 9007199254740991, got 9007199254740993/);
    expect(() => parseArgs(['d', '--constructor'], spec)).toThrow(/unknown flag --constructor/);
  });

  it('segmentIndexFor: the last segment whose base is <= offset', () => {
    const bases = [0, 110, 180, 5000].map((base) => ({ base }));
    expect([0, 109, 110, 179, 180, 4999, 5000, 9999].map((o) => segmentIndexFor(bases, o))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(segmentIndexFor([{ base: 7 }], 7)).toBe(0);
  });
});
