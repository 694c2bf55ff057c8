/**
 * `episteme-wal dump --events` from the journal's side: the store's
 * formatter is loaded only for --events (a dynamic import: wal never
 * imports the store statically), a journal of plain records gets a note
 * per record instead of a crash, and a formatter that cannot be loaded is a
 * usage error that changes nothing. Decoded commits are tested where the
 * store is a dependency: apps/demo/test/cli.wal.spec.ts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/main.js';
import { copyVector, FIXTURES, snapshotDir } from './helpers.js';

async function cli(argv: string[], io: Partial<CliIO> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stderrIsTTY: false, ...io });
  return { code, stdout, stderr };
}

describe('episteme-wal dump --events', () => {
  it('a journal of records that are not store commits: one note per record, exit 0, the same records as a plain dump', async () => {
    const dir = copyVector('basic');
    const before = snapshotDir(dir);
    const plain = (await cli(['dump', dir, '--json'])).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { offset: number; length: number });
    const r = await cli(['dump', dir, '--events', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { offset: number; length: number; kind: string; code: string; reason: string });
    expect(lines.map((l) => [l.offset, l.length])).toEqual(plain.map((l) => [l.offset, l.length]));
    for (const l of lines) {
      expect(l.kind).toBe('not-a-commit');
      expect(l.code).toBe('STORE_CORRUPT_COMMIT');
      expect(l.reason).toMatch(new RegExp(`^the record at log position ${l.offset} is not a valid commit: `));
    }
    const text = await cli(['dump', dir, '--events', '--limit', '2']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')).toEqual([
      '      OFFSET  COMMIT',
      expect.stringMatching(/^ {11}0 {2}not a store commit \(\d+ bytes\): the record at log position 0 is not a valid commit: /),
      expect.stringMatching(/^ +\d+ {2}not a store commit /),
      '',
    ]);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('an empty journal: nothing to describe, exit 0', async () => {
    expect(await cli(['dump', join(FIXTURES, 'empty'), '--events', '--json'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a formatter that cannot be loaded: exit 2, one line saying what to install, a JSON error document, nothing changed', async () => {
    const dir = copyVector('basic');
    const before = snapshotDir(dir);
    const missing = (s: string): Promise<unknown> => Promise.reject(Object.assign(new Error(`Cannot find package '${s}' imported from dump.js`), { code: 'ERR_MODULE_NOT_FOUND' }));
    const r = await cli(['dump', dir, '--events'], { importModule: missing });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "episteme-wal dump: --events needs the event store's formatter (@episteme/store/internals), which cannot be loaded: Cannot find package '@episteme/store/internals' imported from dump.js; install @episteme/store beside @episteme/wal, or dump without --events\n",
    );
    const j = await cli(['dump', dir, '--events', '--json'], { importModule: missing });
    expect(j.code).toBe(2);
    expect((JSON.parse(j.stdout) as { error: { code: string } }).error.code).toBe('CLI_EVENTS_UNAVAILABLE');
    // a module that loads but is not the formatter (an older store)
    const old = await cli(['dump', dir, '--events'], { importModule: async () => ({}) });
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/--events needs @episteme\/store\/internals to export describeCommit/);
    // without --events the module is never asked for
    let asked = 0;
    expect((await cli(['dump', dir, '--limit', '1'], { importModule: async () => void asked++ })).code).toBe(0);
    expect(asked).toBe(0);
    expect(snapshotDir(dir)).toEqual(before);
  });
});
