/**
 * A data directory written by an earlier version of the app (one plain JSON
 * record per assertion event; fixtures/legacy-data was made by the app as
 * of 12233c3: `assert --id e1`, an assert, `retract e1`) cannot be read as
 * event store commits: every command that opens it is refused with
 * APP_LEGACY_DATA (exit 1) saying what to do, and nothing is changed. The
 * journal commands still read it, and scripts/legacyAssertions.mjs carries
 * its standing assertions over into a new directory through `import`.
 */
import { spawn } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { resolveConfig, wire } from '../src/index.js';
import { cli, FIXTURES, json, oneLineError, REPO_ROOT, removeTempDirs, snapshotTree, STACK_FRAME, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

function legacyCopy(): string {
  const data = tempDir();
  cpSync(join(FIXTURES, 'legacy-data'), data, { recursive: true });
  return data;
}

describe('data of an earlier version of the app', () => {
  it('every command that opens the app is refused with APP_LEGACY_DATA (exit 1) saying what to do; nothing is changed', async () => {
    const data = legacyCopy();
    const before = snapshotTree(data);
    const commands = [
      ['assert', '--subject', 's', '--predicate', 'p', '--object', 'o'],
      ['retract', 'e1', '--reason', 'r'],
      ['beliefs', 'earth'],
      ['stats'],
      ['streams', 'list'],
      ['streams', 'show', 'assertion-e1'],
      ['consumers', 'list'],
      ['projections', 'list'],
      ['projections', 'rebuild', 'beliefs'],
    ];
    for (const argv of commands) {
      const r = await cli(['--data', data, ...argv]);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(oneLineError(r.stderr)).toBe(
        `episteme ${argv[0] === 'streams' || argv[0] === 'consumers' || argv[0] === 'projections' ? `${argv[0]} ${argv[1]}` : argv[0]}: ${join(data, 'journal')} holds data of an earlier version of the app (each assertion a plain JSON record), which this version cannot read: ` +
          "it keeps each assertion's events in a stream of an event store. Nothing was changed. Use a new data directory (--data), and carry the assertions over with `episteme import` (docs/cli.md, \"Data of earlier versions\")",
      );
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(json<{ error: { code: string } }>((await cli(['--data', data, '--json', ...argv])).stdout).error.code).toBe('APP_LEGACY_DATA');
    }
    const importFile = join(tempDir(), 'one.ndjson');
    writeFileSync(importFile, JSON.stringify({ subject: 's', predicate: 'p', object: 'o', confidence: 1, source: 't' }) + '\n');
    expect((await cli(['--data', data, 'import', importFile])).code).toBe(1);
    // the library's composition root refuses it the same way
    await expect(wire(container.createChildContainer(), resolveConfig({ dataDir: data }, {}))).rejects.toMatchObject({ code: 'APP_LEGACY_DATA', category: 'state' });
    expect(snapshotTree(data)).toEqual(before);
  });

  it('the journal commands still read it, and scripts/legacyAssertions.mjs carries its standing assertions into a new directory', async () => {
    const data = legacyCopy();
    expect((await cli(['--data', data, 'wal', 'verify'])).code).toBe(0);
    const dump = await cli(['--data', data, '--json', 'wal', 'dump']);
    expect(dump.code).toBe(0);
    const converted = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/demo/scripts/legacyAssertions.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(dump.stdout);
    });
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toBe('1 standing assertion(s) written\n');
    const lines = converted.stdout.trimEnd().split('\n').map((l) => json<Record<string, unknown>>(l));
    // e1 was retracted: only the other one stands
    expect(lines).toEqual([expect.objectContaining({ subject: 'mars', predicate: 'orbits', object: 'sun', confidence: 1, source: 'cli', assertedAt: expect.any(String) })]);
    const file = join(tempDir(), 'carried.ndjson');
    writeFileSync(file, converted.stdout);
    const fresh = join(tempDir(), 'new-data');
    const imported = await cli(['--data', fresh, '--json', 'import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    const beliefs = json<{ assertions: { id: string; assertedAt: string }[] }>((await cli(['--data', fresh, '--json', 'beliefs', 'mars'])).stdout);
    expect(beliefs.assertions).toEqual([expect.objectContaining({ id: lines[0]!.id, assertedAt: lines[0]!.assertedAt })]);
  });
});
