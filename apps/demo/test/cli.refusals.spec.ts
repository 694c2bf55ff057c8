/**
 * Bad flags and bad values: refused with exit 2, one line on stderr naming
 * the problem, no stack trace, and nothing changed on disk: every file under
 * an existing data directory hashes the same afterwards, and a data
 * directory that did not exist still does not.
 */
import { existsSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumerRegistry } from '@episteme/consumers';
import { Journal } from '@episteme/wal';
import { cli, json, oneLineError, removeTempDirs, snapshotTree, STACK_FRAME, tempDir } from './cliHelpers.js';

let data: string;
let first: number;
let second: number;
let head: number;

beforeAll(async () => {
  data = tempDir();
  const offsets: number[] = [];
  for (const subject of ['earth', 'mars']) {
    const r = await cli(['--data', data, '--json', 'assert', '--subject', subject, '--predicate', 'orbits', '--object', 'sun', '--id', `${subject}-1`]);
    expect(r.code, r.stderr).toBe(0);
    offsets.push(json<{ globalPosition: number }>(r.stdout).globalPosition); // one event per commit: its record's offset
  }
  [first, second] = offsets as [number, number];
  // a consumer of the app's log, as a program would register it (the cases below reset it)
  const reader = await Journal.openForRead({ dir: join(data, 'journal') });
  ConsumerRegistry.forJournal(reader).register('indexer');
  await reader.close();
  head = json<{ head: number }>((await cli(['--data', data, '--json', 'wal', 'verify'])).stdout).head;
});
afterAll(removeTempDirs);

interface Case {
  what: string;
  argv: (dataDir: string) => string[];
  message: RegExp;
  /** Also run it against a data directory that does not exist (default yes). */
  absentToo?: boolean;
}

const assertArgs = ['assert', '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun'];

const cases: Case[] = [
  // assert: validation and parsing, before anything is opened
  { what: 'confidence 1.5', argv: (d) => ['--data', d, ...assertArgs, '--confidence', '1.5'], message: /^episteme assert: invalid assertion: confidence must not be greater than 1$/ },
  { what: 'a negative confidence', argv: (d) => ['--data', d, ...assertArgs, '--confidence', '-0.1'], message: /confidence must not be less than 0/ },
  { what: 'a confidence that is not a number', argv: (d) => ['--data', d, ...assertArgs, '--confidence', 'high'], message: /--confidence must be a number between 0 and 1, got "high"/ },
  { what: 'a missing subject', argv: (d) => ['--data', d, 'assert', '--predicate', 'orbits', '--object', 'sun'], message: /^episteme assert: invalid assertion: subject is required$/ },
  { what: 'an empty subject', argv: (d) => ['--data', d, 'assert', '--subject', '', '--predicate', 'orbits', '--object', 'sun'], message: /subject should not be empty/ },
  { what: 'a missing object', argv: (d) => ['--data', d, 'assert', '--subject', 'earth', '--predicate', 'orbits'], message: /object/ },
  { what: 'a flag without its value', argv: (d) => ['--data', d, 'assert', '--subject', 'earth', '--predicate', 'orbits', '--object'], message: /--object needs a value/ },
  { what: 'a flag without its value, followed by another flag', argv: (d) => ['--data', d, 'assert', '--predicate', 'b', '--object', 'c', '--subject', '--source', 's'], message: /--subject needs a value <.*> \(got the flag --source; a value that starts with -- is written --subject=<value>\)/ },
  { what: 'a global flag without its value, followed by another flag', argv: (d) => ['--data', '--json', 'stats', d], message: /--data needs a value <dir> \(got the flag --json/ },
  { what: 'an unknown flag', argv: (d) => ['--data', d, ...assertArgs, '--colour', 'blue'], message: /^episteme assert: unknown flag --colour$/ },
  { what: 'a flag given twice', argv: (d) => ['--data', d, ...assertArgs, '--subject', 'mars'], message: /--subject given more than once/ },
  // retract, import, queries
  { what: 'a retraction without a reason', argv: (d) => ['--data', d, 'retract', 'some-id'], message: /^episteme retract: invalid retraction: .*reason/ },
  { what: 'a retraction of an id that was never used', argv: (d) => ['--data', d, 'retract', 'no-such-id', '--reason', 'r'], message: /^episteme retract: no assertion has id "no-such-id" \(stream "assertion-no-such-id" does not exist\); nothing was appended/ },
  { what: 'an id that cannot name a stream', argv: (d) => ['--data', d, ...assertArgs, '--id', 'mars 1'], message: /^episteme assert: invalid assertion: id may only hold letters, digits and - _ \. : @ \/ \+ = ~ # \(it names the assertion's stream\)$/ },
  { what: 'a retraction of an id that cannot name a stream', argv: (d) => ['--data', d, 'retract', 'mars 1', '--reason', 'r'], message: /^episteme retract: invalid retraction: assertionId may only hold letters/ },
  { what: 'a --lock-wait that is not a number of milliseconds', argv: (d) => ['--data', d, '--lock-wait', '5s', ...assertArgs], message: /^episteme: the lock wait must be a whole number of milliseconds \(0: do not wait\), got "5s"$/ },
  { what: 'a retraction without an id', argv: (d) => ['--data', d, 'retract', '--reason', 'r'], message: /missing argument <id>/ },
  { what: 'an import file that does not exist', argv: (d) => ['--data', d, 'import', join(d, '..', 'no-such-file.ndjson')], message: /^episteme import: cannot read / },
  { what: 'an import without a file', argv: (d) => ['--data', d, 'import'], message: /missing argument <file.ndjson>/ },
  { what: 'beliefs without a subject', argv: (d) => ['--data', d, 'beliefs'], message: /missing argument <subject>/ },
  { what: 'an extra argument', argv: (d) => ['--data', d, 'stats', 'extra'], message: /unexpected argument "extra"/ },
  // commands and global flags
  { what: 'an unknown command', argv: (d) => ['--data', d, 'frobnicate'], message: /^episteme: unknown command "frobnicate" \(episteme --help lists them\)$/ },
  { what: 'an unknown subcommand', argv: (d) => ['--data', d, 'consumers', 'rename', 'x'], message: /^episteme: consumers has no command "rename"; one of: list, reset, delete \(episteme help consumers\)$/ },
  { what: 'an unknown flag before the command', argv: (d) => ['--data', d, '--verbose', 'stats'], message: /^episteme: unknown flag --verbose \(global flags come before or after the command; episteme --help lists them\)$/ },
  { what: 'help for an unknown command', argv: (d) => ['--data', d, 'help', 'frobnicate'], message: /^episteme: unknown command "frobnicate" \(episteme --help lists them\)$/ },
  { what: 'a global flag given twice', argv: (d) => ['--data', d, '--data', join(d, 'other'), 'stats'], message: /^episteme: --data given more than once$/ },
  { what: 'a command group without its command', argv: (d) => ['--data', d, 'consumers'], message: /^episteme: consumers needs one of: list, reset, delete \(episteme help consumers\)$/ },
  { what: '--durability sometimes', argv: (d) => ['--data', d, '--durability', 'sometimes', ...assertArgs], message: /^episteme: durability must be immediate or none, got "sometimes"$/ },
  { what: '--group-commit maybe', argv: (d) => ['--data', d, '--group-commit', 'maybe', ...assertArgs], message: /group commit must be on or off/ },
  { what: '--max-payload-bytes 0', argv: (d) => ['--data', d, '--max-payload-bytes', '0', 'stats'], message: /^episteme: the payload limit must be an integer from 1 to 4294967295 bytes, got "0"$/ },
  { what: '--segment-bytes 12', argv: (d) => ['--data', d, '--segment-bytes', '12', ...assertArgs], message: /segment size must be an integer of at least 1024 bytes/ },
  // consumers: offsets and names
  { what: 'a negative offset', argv: (d) => ['--data', d, 'consumers', 'reset', 'indexer', '--to', '-1'], message: /^episteme consumers reset: --to must be a non-negative integer, got "-1"$/ },
  { what: 'an offset inside a record', argv: (d) => ['--data', d, 'consumers', 'reset', 'indexer', '--to', String(second - 7)], message: /not the start of a record/, absentToo: false },
  { what: 'an offset beyond the head', argv: (d) => ['--data', d, 'consumers', 'reset', 'indexer', '--to', String(head + 1000)], message: /beyond the head/, absentToo: false },
  { what: 'a reset without --to', argv: (d) => ['--data', d, 'consumers', 'reset', 'indexer'], message: /--to is required/ },
  { what: 'a reset to a word', argv: (d) => ['--data', d, 'consumers', 'reset', 'indexer', '--to', 'soon'], message: /--to must be a non-negative integer, got "soon"/ },
  { what: 'resetting an unknown consumer', argv: (d) => ['--data', d, 'consumers', 'reset', 'ghost', '--to', '0'], message: /no consumer named "ghost"/, absentToo: false },
  { what: 'deleting an unknown consumer', argv: (d) => ['--data', d, 'consumers', 'delete', 'ghost'], message: /no consumer named "ghost"/, absentToo: false },
  { what: 'resetting consumer ../x', argv: (d) => ['--data', d, 'consumers', 'reset', '../x', '--to', '0'], message: /invalid consumer name "\.\.\/x"/, absentToo: false },
  { what: 'resetting consumer ""', argv: (d) => ['--data', d, 'consumers', 'reset', '', '--to', '0'], message: /invalid consumer name "": a name cannot be empty/, absentToo: false },
  { what: 'deleting consumer ../x', argv: (d) => ['--data', d, 'consumers', 'delete', '../x'], message: /invalid consumer name "\.\.\/x"/, absentToo: false },
  { what: 'deleting consumer ""', argv: (d) => ['--data', d, 'consumers', 'delete', ''], message: /invalid consumer name ""/, absentToo: false },
  { what: 'deleting consumer /etc/passwd', argv: (d) => ['--data', d, 'consumers', 'delete', '/etc/passwd'], message: /invalid consumer name/, absentToo: false },
  // projections and wal
  { what: 'rebuilding an unknown projection', argv: (d) => ['--data', d, 'projections', 'rebuild', 'nope'], message: /unknown projection "nope" \(known: beliefs, stats\)/ },
  { what: 'an unknown wal command', argv: (d) => ['--data', d, 'wal', 'compact'], message: /wal needs one of/ },
  { what: 'wal dump from a negative offset', argv: (d) => ['--data', d, 'wal', 'dump', '--from', '-1'], message: /non-negative integer/ },
  { what: 'wal dump from an offset inside a record', argv: (d) => ['--data', d, 'wal', 'dump', '--from', String(first + 3)], message: /offset \d+ is not the start of a record/, absentToo: false },
  { what: 'wal dump from beyond the head', argv: (d) => ['--data', d, 'wal', 'dump', '--from', String(head + 1000)], message: /offset \d+ is outside the retained log \[0, \d+\]/, absentToo: false },
  // --data naming the journal directory itself: a writer would make a second journal inside it
  ...[assertArgs, ['stats'], ['wal', 'verify']].map((args) => ({
    what: `--data naming the journal directory itself (${args[0]})`,
    argv: (d: string) => ['--data', join(d, 'journal'), ...args],
    message: /^episteme: \S+\/journal is a journal directory itself \(it holds the segment 0000000000000000\.wal\): --data takes the app's data directory, whose journal is its journal\/ subdirectory \(--data \S+\?\)$/,
    absentToo: false,
  })),
  // a data directory that does not exist is not an empty journal for the commands that only read or administer
  { what: 'consumers list on a missing data directory', argv: (d) => ['--data', d, 'consumers', 'list'], message: /not a journal directory/, absentToo: true },
  { what: 'beliefs on a missing data directory', argv: (d) => ['--data', d, 'beliefs', 'earth'], message: /not a journal directory/, absentToo: true },
  { what: 'wal recover on a missing data directory', argv: (d) => ['--data', d, 'wal', 'recover'], message: /not a journal directory/, absentToo: true },
];

/** Exit 2, one line matching `message`, no stack trace. */
async function expectRefused(argv: string[], message: RegExp, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await cli(argv, env);
  expect(r.code, `${argv.join(' ')}\n${r.stdout}${r.stderr}`).toBe(2);
  expect(oneLineError(r.stderr)).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  // --json: the same refusal, and also one JSON document on stdout, from the
  // app's own commands and the delegated `wal` ones alike
  const j = await cli(['--json', ...argv], env);
  expect(j.code).toBe(2);
  expect(j.stderr).toBe(r.stderr);
  expect(json<{ error: { code: string; message: string } }>(j.stdout).error.message).toBe(oneLineError(r.stderr).replace(/^episteme[^:]*: /, '').replace(/ \(see `episteme wal \w+ --help`\)$/, ''));
}

describe('refused with exit 2 and nothing changed on disk', () => {
  const existing = cases.filter((c) => !/missing data directory/.test(c.what));
  it.each(existing.map((c) => [c.what, c] as const))('%s (existing data directory)', async (_what, c) => {
    const before = snapshotTree(data);
    expect(before).not.toBeNull();
    await expectRefused(c.argv(data), c.message);
    expect(snapshotTree(data)).toEqual(before);
  });

  const absent = cases.filter((c) => c.absentToo !== false);
  it.each(absent.map((c) => [c.what, c] as const))('%s (data directory not created)', async (_what, c) => {
    const missing = join(tempDir(), 'not-yet');
    await expectRefused(c.argv(missing), c.message);
    expect(existsSync(missing)).toBe(false);
  });

  it('an empty --data', async () => {
    await expectRefused(['--data', '', ...assertArgs], /data directory cannot be empty/);
    await expectRefused(assertArgs, /data directory cannot be empty/, { EPISTEME_DATA: '' });
  });

  it('a bad option from the environment is refused like the flag', async () => {
    const missing = join(tempDir(), 'not-yet');
    await expectRefused(['--data', missing, ...assertArgs], /durability must be immediate or none, got "sometimes"/, { EPISTEME_DURABILITY: 'sometimes' });
    expect(existsSync(missing)).toBe(false);
  });
});

describe('refused with exit 1 (a conflict with what the data holds) and nothing changed on disk', () => {
  it.each([
    ['an assertion with an id that stands', (d: string) => ['--data', d, ...assertArgs, '--id', 'mars-1'], /^episteme assert: id "mars-1" is already used by a standing assertion about "mars" \(stream "assertion-mars-1": expected version no_stream, actual 1\); nothing was appended: retract it first/, 'APP_ID_IN_USE'],
    ['a retraction of an assertion already retracted', (d: string) => ['--data', d, 'retract', 'earth-1', '--reason', 'again'], /^episteme retract: assertion "earth-1" is already retracted \(stream "assertion-earth-1" at version 2\); nothing was appended$/, 'APP_ALREADY_RETRACTED'],
  ] as const)('%s', async (_what, argv, message, code) => {
    const dir = tempDir();
    for (const subject of ['earth', 'mars']) expect((await cli(['--data', dir, 'assert', '--subject', subject, '--predicate', 'orbits', '--object', 'sun', '--id', `${subject}-1`])).code).toBe(0);
    expect((await cli(['--data', dir, 'retract', 'earth-1', '--reason', 'once'])).code).toBe(0);
    const before = snapshotTree(dir);
    const r = await cli(argv(dir));
    expect(r.code, r.stderr).toBe(1);
    expect(oneLineError(r.stderr)).toMatch(message);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const j = await cli(['--json', ...argv(dir)]);
    expect(j.code).toBe(1);
    expect(json<{ error: { code: string } }>(j.stdout).error.code).toBe(code);
    expect(snapshotTree(dir)).toEqual(before);
  });
});

describe('more bad input', () => {
  /** A data directory of its own with one assertion, for a test that may (wrongly) change it. */
  const seeded = async (): Promise<string> => {
    const dir = tempDir();
    expect((await cli(['--data', dir, ...assertArgs])).code).toBe(0);
    return dir;
  };

  // The global flags taking a value read the next word even when there is
  // none: a trailing `--data` becomes undefined and the command silently
  // runs on EPISTEME_DATA or on ./episteme-data in the working directory.
  it('a trailing --data without a directory is refused, not replaced by the default', async () => {
    const envDir = join(tempDir(), 'from-env');
    await expectRefused([...assertArgs, '--data'], /--data needs a value/, { EPISTEME_DATA: envDir });
    expect(existsSync(envDir)).toBe(false);
  });

  it('a trailing --durability without a value is refused', async () => {
    const data = await seeded();
    const before = snapshotTree(data);
    await expectRefused(['--data', data, ...assertArgs, '--durability'], /--durability needs a value/);
    expect(snapshotTree(data)).toEqual(before);
  });

  // Boolean global flags ignore an inline value: `--json=false` means --json.
  it('a value given to a boolean global flag is refused', async () => {
    const data = await seeded();
    const before = snapshotTree(data);
    await expectRefused(['--data', data, '--debug=no', ...assertArgs], /--debug takes no value/);
    expect(snapshotTree(data)).toEqual(before);
    const r = await cli(['--data', data, '--json=false', 'stats']);
    expect(r.code, r.stdout).toBe(2);
  });

  // Number('0x1') is 1: hexadecimal, binary and octal literals pass as confidences.
  it('a hexadecimal confidence is refused', async () => {
    const data = await seeded();
    const before = snapshotTree(data);
    await expectRefused(['--data', data, ...assertArgs, '--confidence', '0x1'], /--confidence must be a number between 0 and 1/);
    expect(snapshotTree(data)).toEqual(before);
  });

  // a dangling link as the data directory was reported as a bare ENOENT (writer) or "no such directory" (reader)
  it('a data directory that is a dangling symbolic link is named as one, with its target: exit 2, nothing created', async () => {
    const root = tempDir();
    const link = join(root, 'data');
    symlinkSync('/nonexistent/x', link);
    const why = `${link}/journal is not a journal directory: ${link} is a dangling symbolic link to /nonexistent/x (its target does not exist)`;
    for (const argv of [['stats'], assertArgs, ['wal', 'verify']]) {
      await expectRefused(['--data', link, ...argv], new RegExp(`^episteme [a-z ]+: ${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    }
    expect(readdirSync(root)).toEqual(['data']);
    expect(readlinkSync(link)).toBe('/nonexistent/x');
  });

  // import stats the path, opens the journal as the writer (creating the
  // data directory), and only then fails reading it: exit 1, raw EISDIR.
  it('importing a directory is bad input: exit 2 and the data directory not created', async () => {
    const missing = join(tempDir(), 'not-yet');
    const notAFile = tempDir();
    mkdirSync(join(notAFile, 'sub'));
    await expectRefused(['--data', missing, 'import', notAFile], /^episteme import: /);
    expect(existsSync(missing)).toBe(false);
  });
});
