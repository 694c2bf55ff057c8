/**
 * `episteme backup <dest>`: the journal with the app's cursors, snapshots
 * and stream index checked against its head, and the audit export as of
 * that head; restored with episteme-wal, the app reads the same beliefs.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli as runWalCli } from '@episteme/wal/cli';
import { cli, json, oneLineError, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

async function assertSome(data: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await cli(['--data', data, 'assert', '--subject', `s${i}`, '--predicate', 'is', '--object', `o${i}`, '--confidence', '0.9']);
    expect(r.code, r.stderr).toBe(0);
  }
}

describe('episteme backup', () => {
  it('backs up the data directory; restored, the app reads the same beliefs and audit export', async () => {
    const data = tempDir();
    await assertSome(data, 5);
    const beliefsBefore = (await cli(['--data', data, '--json', 'beliefs', 's3'])).stdout;
    // the export as the demo's audit consumer leaves it, with a line past the head (exported from a record the backup does not hold)
    const line = (p: number): string => `{"globalPosition":${p},"stream":"x"}\n`;
    mkdirSync(join(data, 'audit'));
    writeFileSync(join(data, 'audit', 'assertions.ndjson'), line(0) + line(1) + line(1e12));
    const dest = join(tempDir(), 'backup');
    const r = await cli(['--data', data, '--json', 'backup', dest]);
    expect(r.code, r.stderr).toBe(0);
    const report = json<{ head: number; auditLines: number; stateFiles: number }>(r.stdout);
    expect(report.auditLines).toBe(2);
    expect(report.stateFiles).toBeGreaterThan(0);
    const restored = tempDir();
    let walOut = '';
    const code = await runWalCli(['restore', join(dest, 'journal'), join(restored, 'journal')], { stdout: (s) => void (walOut += s), stderr: () => {}, stderrIsTTY: false });
    expect(code, walOut).toBe(0);
    cpSync(join(dest, 'audit'), join(restored, 'audit'), { recursive: true });
    expect((await cli(['--data', restored, '--json', 'beliefs', 's3'])).stdout).toBe(beliefsBefore);
    expect(readFileSync(join(restored, 'audit', 'assertions.ndjson'), 'utf8')).toBe(line(0) + line(1));
    // a second backup into the same place is incremental
    await assertSome(data, 1);
    const again = json<{ incremental: boolean; auditLines: number }>((await cli(['--data', data, '--json', 'backup', dest])).stdout);
    expect(again).toMatchObject({ incremental: true, auditLines: 2 });
  });

  it('refuses a non-empty directory that holds no backup of the app, and changes nothing', async () => {
    const data = tempDir();
    await assertSome(data, 1);
    const other = tempDir();
    writeFileSync(join(other, 'mine.txt'), 'x');
    const before = snapshotTree(other);
    const dataBefore = snapshotTree(join(data, 'journal', 'consumers'));
    const r = await cli(['--data', data, 'backup', other]);
    expect(r.code, r.stderr).toBe(2);
    expect(oneLineError(r.stderr)).toBe(`episteme backup: refusing ${other}: it is a non-empty directory that holds no backup of the app (mine.txt); nothing was changed`);
    expect(snapshotTree(other)).toEqual(before);
    expect(snapshotTree(join(data, 'journal', 'consumers'))).toEqual(dataBefore);
    const into = await cli(['--data', data, '--json', 'backup', join(data, 'journal', 'b')]);
    expect(into.code).toBe(2);
    expect(json<{ error: { code: string } }>(into.stdout).error.code).toBe('WAL_BACKUP_TARGET');
  });
});
