import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Journal, verifyJournal } from '../src/index.js';
import { RECORD_OVERHEAD } from '../src/internals.js';
import { HEADER_SIZE } from '../src/format/constants.js';
import { runCli } from '../src/cli/main.js';
import { StdoutClosedError } from '../src/cli/output.js';
import { snapshotDir, tempDir } from './helpers.js';

async function* chunks(...parts: string[]): AsyncIterable<string> {
  for (const p of parts) yield p;
}

/**
 * Lines, then one line that does not end: 64 KiB chunks of `x`, without a
 * newline, up to a cap far past any limit the tests set (a cap, so that a
 * command that reads it all ends, and fails its test, in a second or so).
 */
function endlessLine(lines: string, cap = 16 * 1024 * 1024): { stream: Readable; pulled: () => number } {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let pulled = 0;
  const stream = new Readable({
    read() {
      if (pulled * chunk.length >= cap) return void this.push(null);
      this.push(pulled++ === 0 ? Buffer.concat([Buffer.from(lines), chunk]) : chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

async function append(argv: string[], stdin: AsyncIterable<string | Uint8Array>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['append', ...argv], {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    stderrIsTTY: false,
    stdin,
  });
  return { code, stdout, stderr };
}

describe('episteme-wal append', () => {
  it('appends one record per stdin line, lines split across chunks, and prints each offset', async () => {
    const dir = join(tempDir(), 'new-journal');
    const out = await append([dir], chunks('alpha\nbe', 'ta\n\ngam', 'ma'));
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toBe('0\n45\n89\n129\n');
    const journal = await Journal.openForRead({ dir });
    expect(journal.readMany(0, 10).map((r) => Buffer.from(r.payload).toString())).toEqual(['alpha', 'beta', '', 'gamma']);
    await journal.close();
    expect(verifyJournal(dir).ok).toBe(true);
  });

  it('a CRLF line ending is a line ending (also split between chunks); a CR elsewhere is data', async () => {
    const dir = tempDir();
    const out = await append([dir], chunks('alpha\r\nbeta\r', '\n\r\nga\rmma\r'));
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const journal = await Journal.openForRead({ dir });
    expect(journal.readMany(0, 10).map((r) => Buffer.from(r.payload).toString())).toEqual(['alpha', 'beta', '', 'ga\rmma\r']);
    await journal.close();
  });

  it('continues an existing journal with durability none', async () => {
    const dir = tempDir();
    await append([dir], chunks('one\n'));
    const out = await append([dir, '--durability', 'none'], chunks('two\n'));
    expect(out.stdout).toBe('43\n');
  });

  it('refuses a bad durability value with exit 2 and changes nothing', async () => {
    const dir = tempDir();
    await append([dir], chunks('one\n'));
    const before = snapshotDir(dir);
    const out = await append([dir, '--durability', 'sometimes'], chunks('two\n'));
    expect(out.code).toBe(2);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toContain('--durability');
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('refuses a line over --max-payload-bytes with exit 2, naming the line, after appending the lines before it', async () => {
    const dir = tempDir();
    const out = await append([dir, '--max-payload-bytes', '4'], chunks('ok\n', 'toolong\n'));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('0\n');
    expect(out.stderr).toMatch(/line 2: .*exceeds maxPayloadBytes/);
  });

  it('a line over the limit that arrives with earlier lines in one chunk: those are appended, the message names the line and says so', async () => {
    const dir = tempDir();
    const out = await append([dir, '--max-payload-bytes', '4'], chunks('ok\nfine\ntoolong\nafter\n'));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('0\n42\n');
    expect(out.stderr).toMatch(/line 3: payload of 7 bytes exceeds maxPayloadBytes \(4\); raise it with --max-payload-bytes \(lines 1-2 were appended\)/);
    const journal = await Journal.openForRead({ dir });
    expect(journal.readMany(0, 10).map((r) => Buffer.from(r.payload).toString())).toEqual(['ok', 'fine']);
    await journal.close();

    const first = await append([tempDir(), '--max-payload-bytes', '4'], chunks('toolong\nok\n'));
    expect(first).toMatchObject({ code: 2, stdout: '' });
    expect(first.stderr).toMatch(/line 1: .*\(no line was appended\)/);
    const second = await append([tempDir(), '--max-payload-bytes', '4'], chunks('ok\ntoolong\n'));
    expect(second.stderr).toMatch(/line 2: .*\(line 1 was appended\)$/m);
  });

  it('a line that never ends is refused once it is over the limit, not read to its end: exit 2, stdin closed, the lines before it appended, nothing else changed', async () => {
    const dir = tempDir();
    const same = tempDir(); // the journal it should leave: the same lines, appended without the endless one
    for (const d of [dir, same]) await append([d], chunks('zero\n'));
    await append([same, '--max-payload-bytes', '1000'], chunks('one\ntwo\n'));
    const input = endlessLine('one\ntwo\n');
    const out = await append([dir, '--max-payload-bytes', '1000'], input.stream);
    // the first 64 KiB chunk is over the limit; the stream may have read one ahead
    expect(input.pulled()).toBeLessThanOrEqual(2);
    expect(input.stream.destroyed).toBe(true);
    expect(out).toMatchObject({ code: 2, stdout: '44\n87\n' });
    expect(out.stderr).toBe(
      'episteme-wal append: line 3: payload of more than 1000 bytes exceeds maxPayloadBytes (1000); raise it with --max-payload-bytes (lines 1-2 were appended)\n',
    );
    expect(snapshotDir(dir)).toEqual(snapshotDir(same));
  });

  it('a line over the limit that is still open when its chunk ends: the lines before it in that chunk are appended, then it is refused', async () => {
    const dir = tempDir();
    const out = await append([dir, '--max-payload-bytes', '4'], chunks('ok\nfine\ntoolo', 'ng\nafter\n'));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('0\n42\n');
    expect(out.stderr).toMatch(/line 3: payload of more than 4 bytes exceeds maxPayloadBytes \(4\); raise it with --max-payload-bytes \(lines 1-2 were appended\)$/m);
    // exactly the limit, CRLF cut between \r and \n: a line like any other
    const exact = await append([tempDir(), '--max-payload-bytes', '4'], chunks('abcd\r', '\nefgh\r', '\n'));
    expect(exact).toMatchObject({ code: 0, stdout: '0\n44\n' });
  });

  it('the same records whatever the chunks: an input cut in two at every position, between \\r and \\n too', async () => {
    const text = 'a\r\nbc\n\r\n\rd\re\r';
    const read = async (dir: string): Promise<string[]> => {
      const journal = await Journal.openForRead({ dir });
      const records = journal.readMany(0, 100).map((r) => Buffer.from(r.payload).toString());
      await journal.close();
      return records;
    };
    const whole = tempDir();
    expect((await append([whole, '--durability', 'none'], chunks(text))).code).toBe(0);
    expect(await read(whole)).toEqual(['a', 'bc', '', '\rd\re\r']);
    for (let i = 1; i < text.length; i++) {
      const dir = tempDir();
      expect((await append([dir, '--durability', 'none'], chunks(text.slice(0, i), text.slice(i)))).code).toBe(0);
      expect(snapshotDir(dir), `cut at ${i}`).toEqual(snapshotDir(whole));
    }
  });

  it.each([
    ['throws', () => { throw new StdoutClosedError(); }],
    ['rejects', () => Promise.reject(new StdoutClosedError())],
  ])('a stdout whose reader left after the first offsets (its next write %s): every line is still appended, no more offsets, exit 0', async (_, closed) => {
    const dir = tempDir();
    let stdout = '';
    let stderr = '';
    let writes = 0;
    const code = await runCli(['append', dir], {
      stdout: (s) => (writes++ === 0 ? void (stdout += s) : closed()),
      stderr: (s) => void (stderr += s),
      stderrIsTTY: false,
      stdin: chunks('one\n', 'two\nthree\n', 'four\n', 'five'),
    });
    expect({ code, stdout, stderr, writes }).toEqual({ code: 0, stdout: '0\n', stderr: '', writes: 2 });
    const journal = await Journal.openForRead({ dir });
    expect(journal.readMany(0, 10).map((r) => Buffer.from(r.payload).toString())).toEqual(['one', 'two', 'three', 'four', 'five']);
    await journal.close();
  });

  it('a path that is a file, or runs through one, is refused like the other commands refuse it: exit 2, nothing created', async () => {
    const dir = tempDir();
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    const before = snapshotDir(dir);
    for (const [path, why] of [[file, 'not a directory'], [join(file, 'journal'), `${file} is not a directory`]] as const) {
      const out = await append([path], chunks('one\n'));
      expect(out.code).toBe(2);
      expect(out.stderr).toBe(`episteme-wal append: ${path} is not a journal directory: ${why}\n`);
    }
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('a dangling symbolic link as the directory, or on its way, is named with its target (not a bare ENOENT): exit 2, nothing created', async () => {
    const dir = tempDir();
    const link = join(dir, 'data');
    const target = join(dir, 'gone', 'x');
    symlinkSync(target, link);
    const before = snapshotDir(dir);
    for (const path of [link, join(link, 'journal')]) {
      const out = await append([path], chunks('one\n'));
      expect(out).toMatchObject({ code: 2, stdout: '' });
      expect(out.stderr).toBe(`episteme-wal append: ${path} is not a journal directory: ${link} is a dangling symbolic link to ${target} (its target does not exist)\n`);
    }
    expect(snapshotDir(dir)).toEqual(before);
    expect(readlinkSync(link)).toBe(target);
  });

  it('a directory that holds other files and no segment is not made a journal: exit 2, nothing created', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    mkdirSync(join(dir, 'photos'));
    const before = snapshotDir(dir);
    const out = await append([dir], chunks('one\n'));
    expect(out).toMatchObject({ code: 2, stdout: '' });
    expect(out.stderr).toMatch(/is not a journal directory: it holds other files \(notes\.txt\) and no segment file; a journal is made only in a new or empty directory\n$/);
    expect(snapshotDir(dir)).toEqual(before);
    // its own files and subdirectories only (a journal whose segments were all moved away): made again
    const own = tempDir();
    writeFileSync(join(own, 'RECOVERY_POINT'), '');
    mkdirSync(join(own, 'quarantine'));
    mkdirSync(join(own, 'consumers'));
    expect(await append([own], chunks('one\n'))).toMatchObject({ code: 0, stdout: '0\n' });
  });

  it('says on stderr what the recovery at open cut, and whether valid records followed the damage', async () => {
    const dir = tempDir();
    await append([dir], chunks('one\ntwo\nthree\nfour\n'));
    const segment = join(dir, '0000000000000000.wal');
    const bytes = readFileSync(segment);
    bytes[HEADER_SIZE + RECORD_OVERHEAD]! ^= 0xff; // the first record's payload: three valid records follow
    writeFileSync(segment, bytes);
    const out = await append([dir], chunks('new\n'));
    expect(out).toMatchObject({ code: 0, stdout: '0\n' });
    expect(out.stderr).toMatch(/^episteme-wal append: recovery cut: 0000000000000000\.wal at file position \d+ \(offset 0\): crc-mismatch; 175 bytes moved to quarantine\/\S+; 3 well-formed records in the cut \(valid records follow the damage: likely media corruption rather than a torn write; they are in the quarantine file\)\n$/);
    const clean = await append([dir], chunks('next\n'));
    expect(clean.stderr).toBe('');
  });

  it('works as a user types it: a spawned process with a stdin pipe', async () => {
    const dir = tempDir();
    const root = join(import.meta.dirname, '..', '..', '..');
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(root, 'packages/wal/src/cli/bin.ts'), 'append', dir], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.end('x\ny\n');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(stdout).toBe('0\n41\n');
  });
});
