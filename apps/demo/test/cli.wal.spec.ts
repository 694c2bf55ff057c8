/**
 * `episteme wal ...` through runCli in this process: the journal commands of
 * episteme-wal on the app's own journal (same output as episteme-wal on
 * <data>/journal), their help and errors as typed through the app, and a
 * journal whose records are larger than the app's default payload limit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { runCli as runWalCli } from '@episteme/wal/cli';
import { cli, json, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

async function assertJson(data: string, ...flags: string[]): Promise<{ id: string; globalPosition: number }> {
  const r = await cli(['--data', data, '--json', 'assert', ...flags]);
  expect(r.code, r.stderr).toBe(0);
  return json<{ id: string; globalPosition: number }>(r.stdout);
}

describe('wal', () => {
  it('segments, dump, verify and recover are episteme-wal on <data>/journal', async () => {
    const data = tempDir();
    for (let i = 0; i < 3; i++) await assertJson(data, '--subject', `s${i}`, '--predicate', 'p', '--object', 'o');
    const walDirect = async (argv: string[]): Promise<{ code: number; stdout: string }> => {
      let stdout = '';
      const code = await runWalCli(argv, { stdout: (s) => void (stdout += s), stderr: () => undefined, stderrIsTTY: false });
      return { code, stdout };
    };
    const noTimes = (s: string): unknown => JSON.parse(s.trim().split('\n').length > 1 ? `[${s.trim().split('\n').join(',')}]` : s, (k, v: unknown) => (k === 'durationMs' ? 0 : v));
    for (const sub of ['segments', 'dump', 'verify', 'recover']) {
      const mine = await cli(['--data', data, '--json', 'wal', sub]);
      const theirs = await walDirect([sub, join(data, 'journal'), '--json']);
      expect(mine.code, `${sub}: ${mine.stderr}`).toBe(0);
      expect(theirs.code).toBe(0);
      expect(noTimes(mine.stdout), sub).toEqual(noTimes(theirs.stdout));
    }
    const text = await cli(['--data', data, 'wal', 'verify']);
    expect(text.stdout).toMatch(/^ok: 1 segment, 3 records/);
    const limited = await cli(['--data', data, 'wal', 'dump', '--limit', '1', '--json']);
    expect(limited.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('verify reports damage with exit 1', async () => {
    const data = tempDir();
    const offsets: number[] = [];
    // one commit per record: an assertion's global position is its record's offset
    for (let i = 0; i < 3; i++) offsets.push((await assertJson(data, '--subject', `s${i}`, '--predicate', 'p', '--object', 'o')).globalPosition);
    const seg = join(data, 'journal', '0000000000000000.wal');
    const bytes = readFileSync(seg);
    // FORMAT.md: a 32-byte segment header, then records of a 40-byte header and the payload
    const inSecondPayload = 32 + offsets[1]! + 40 + 10;
    bytes.writeUInt8(bytes.readUInt8(inSecondPayload) ^ 0xff, inSecondPayload);
    writeFileSync(seg, bytes);
    const r = await cli(['--data', data, '--json', 'wal', 'verify']);
    expect(r.code).toBe(1);
    expect(json<{ ok: boolean; problems: unknown[] }>(r.stdout)).toMatchObject({ ok: false, problems: [expect.anything()] });
  });
});

describe('wal dump --events', () => {
  interface Described {
    offset: number;
    kind: string;
    stream?: string;
    firstPosition?: number;
    events?: { id: string; type: string; streamPosition: number; globalPosition: number; data: Record<string, unknown>; metadata: Record<string, unknown> }[];
    code?: string;
    reason?: string;
  }

  it('shows each record as the commit it is: stream, positions, event types, ids and data (what streams show reads too)', async () => {
    const data = tempDir();
    const a = await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun', '--id', 'e1');
    expect((await cli(['--data', data, 'retract', 'e1', '--reason', 'because'])).code).toBe(0);
    const r = await cli(['--data', data, '--json', 'wal', 'dump', '--events']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => json<Described>(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ offset: a.globalPosition, kind: 'commit', stream: 'assertion-e1', firstPosition: 1, count: 1 });
    expect(lines[0]!.events).toEqual([
      expect.objectContaining({ type: 'AssertionMade', streamPosition: 1, globalPosition: a.globalPosition, data: expect.objectContaining({ id: 'e1', subject: 'earth' }), metadata: { producer: 'cli', schema: 1 } }),
    ]);
    expect(lines[1]).toMatchObject({ kind: 'commit', stream: 'assertion-e1', firstPosition: 2, events: [expect.objectContaining({ type: 'AssertionRetracted', streamPosition: 2, data: expect.objectContaining({ assertionId: 'e1', reason: 'because' }) })] });
    const shown = json<{ events: { id: string }[] }>((await cli(['--data', data, '--json', 'streams', 'show', 'assertion-e1'])).stdout);
    expect(shown.events.map((e) => e.id)).toEqual(lines.map((l) => l.events![0]!.id));
    const text = await cli(['--data', data, 'wal', 'dump', '--events']);
    expect(text.code).toBe(0);
    const rows = text.stdout.split('\n');
    expect(rows[0]).toBe('      OFFSET  COMMIT');
    expect(rows[1]).toMatch(/^ {11}0 {2}commit to assertion-e1, position 1 {2}\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(rows[2]).toMatch(/^ {14}#1 @0 AssertionMade id \S+ \{"id":"e1","subject":"earth",.*\.\.\. metadata \{"producer":"cli","schema":1\}$/);
    expect(rows[3]).toMatch(/^ +\d+ {2}commit to assertion-e1, position 2 /);
  });

  it('a record that is not a store commit gets a note and the dump goes on (exit 0); nothing changed', async () => {
    const data = tempDir();
    await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun');
    const journal = await Journal.open({ dir: join(data, 'journal') });
    const { offset } = await journal.append(Buffer.from('{"written":"by another program"}'));
    await journal.close();
    const before = snapshotTree(data);
    const r = await cli(['--data', data, '--json', 'wal', 'dump', '--events']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => json<Described>(l));
    expect(lines.map((l) => l.kind)).toEqual(['commit', 'not-a-commit']);
    expect(lines[1]).toMatchObject({ offset, code: 'STORE_CORRUPT_COMMIT', reason: `the record at log position ${offset} is not a valid commit: no store header` });
    const text = await cli(['--data', data, 'wal', 'dump', '--events']);
    expect(text.stdout.split('\n')[3]).toBe(`${String(offset).padStart(12)}  not a store commit (32 bytes): the record at log position ${offset} is not a valid commit: no store header`);
    expect(snapshotTree(data)).toEqual(before);
  });
});

describe('a journal with records larger than the default payload limit', () => {
  it('is refused with the advice to raise it (exit 2, nothing changed), and read with --max-payload-bytes or its env variable', async () => {
    const data = tempDir();
    await assertJson(data, '--subject', 's', '--predicate', 'p', '--object', 'o');
    const journal = await Journal.open({ dir: join(data, 'journal'), maxPayloadBytes: 20_000_000 });
    await journal.append(new Uint8Array(17_000_000).fill(0x78)); // written by another tool with a larger limit
    await journal.close();
    const before = snapshotTree(data);
    const refused = await cli(['--data', data, 'stats']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^episteme stats: .*holds a valid record of 17000000 payload bytes .*; nothing was changed; reopen with maxPayloadBytes \(CLI: --max-payload-bytes\) of at least 17000000\n$/);
    expect(snapshotTree(data)).toEqual(before);
    for (const [argv, env] of [[['--max-payload-bytes', '17000000'], {}], [[], { EPISTEME_MAX_PAYLOAD_BYTES: '17000000' }]] as const) {
      const r = await cli(['--data', data, '--json', ...argv, 'stats'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(json<{ assertions: number; notAssertions: number }>(r.stdout)).toMatchObject({ assertions: 1, notAssertions: 1 });
    }
  });
});

describe('wal help and errors', () => {
  it('`wal --help` lists the journal commands the app offers; `wal append --help` is refused like `wal append` (the app does not offer it)', async () => {
    for (const argv of [['wal', '--help'], ['help', 'wal']]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: episteme \[global flags\] wal <command> \[flags\]\n/);
      expect(r.stdout).toContain('  segments, dump, verify, recover\n');
      expect(r.stdout).not.toContain('assert'); // not the app's whole usage
    }
    for (const argv of [['wal', 'append', '--help'], ['help', 'wal', 'append']]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('episteme: wal has no command "append"; one of: segments, dump, verify, recover\n');
    }
  });

  it('a refused recovery names the repair as typed through the app: `episteme wal recover --repair`, no <dir>', async () => {
    const data = tempDir();
    for (let i = 0; i < 6; i++) await assertJson(data, '--subject', `s${i}`, '--predicate', 'p', '--object', 'o', '--segment-bytes', '1024');
    const first = join(data, 'journal', '0000000000000000.wal');
    const bytes = readFileSync(first);
    bytes[32 + 40 + 10]! ^= 0xff; // a payload byte of the first record, in a sealed segment
    writeFileSync(first, bytes);
    const before = snapshotTree(data);
    for (const json of [false, true]) {
      const r = await cli(['--data', data, ...(json ? ['--json'] : []), 'wal', 'recover']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^episteme wal recover: sealed segment 0000000000000000\.wal is damaged .*; nothing was changed; repair with `episteme wal recover --repair` to quarantine/);
      expect(r.stderr).not.toContain('episteme-wal');
      if (json) expect(JSON.parse(r.stdout).error.message).toContain('`episteme wal recover --repair`');
    }
    expect(snapshotTree(data)).toEqual(before);
  });

  it('`wal <command> --help` is the usage as typed through the app: no <dir> (the app names its journal), and which journal', async () => {
    for (const argv of [['wal', 'dump', '--help'], ['help', 'wal', 'dump']]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: episteme wal dump \[--from <offset>\] \[--limit <n>\]/);
      expect(r.stdout).not.toContain('<dir>');
      expect(r.stdout).toContain('Journal: <data>/journal (--data, env EPISTEME_DATA, default ./episteme-data)');
    }
  });

  it('errors of episteme wal name the command as the user typed it', async () => {
    const data = tempDir();
    await assertJson(data, '--subject', 's', '--predicate', 'p', '--object', 'o');
    const r = await cli(['--data', data, 'wal', 'dump', '--limit', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('episteme wal dump: --limit must be a non-negative integer, got "x" (see `episteme wal dump --help`)\n');
  });

});
