/**
 * `episteme backup <dest>`: the journal with the app's cursors, snapshots
 * and stream index checked against its head, and the audit export as of
 * that head, under one manifest; `episteme restore <dest> <dir>` makes a
 * data directory the app opens with the same state.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, nodeFileIO, type FileIO } from '@episteme/wal';
import { runCli as runWalCli } from '@episteme/wal/cli';
import { DEFAULT_CONFIG } from '../src/app/config.js';
import { restoreData } from '../src/backup/restoreData.js';
import { openApp } from '../src/cli/context.js';
import { cli, json, oneLineError, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

const AUDIT = ['audit', 'assertions.ndjson'] as const;

async function assertSome(data: string, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const r = await cli(['--data', data, 'assert', '--subject', `s${i}`, '--predicate', i % 2 ? 'is' : 'has', '--object', `o${i}`, '--confidence', '0.9']);
    expect(r.code, r.stderr).toBe(0);
  }
}

function enospc(path: string): never {
  throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC' });
}

/** Runs the app's audit export up to the head, as the demo's consumer does. */
async function exportAudit(data: string): Promise<void> {
  const app = await openApp({ ...DEFAULT_CONFIG, dataDir: data }, 'write', () => {});
  try {
    app.audit.open();
    await app.audit.run(app.registry, new AbortController().signal, { stopAtHead: true });
  } finally {
    await app.close();
  }
}

/** What the app shows of a data directory: stats and one belief, as JSON. */
async function appState(data: string): Promise<{ stats: string; beliefs: string }> {
  const stats = await cli(['--data', data, '--json', 'stats']);
  const beliefs = await cli(['--data', data, '--json', 'beliefs', 's3']);
  expect(stats.stderr + beliefs.stderr).toBe(''); // no recovery warning, no damaged file
  return { stats: stats.stdout, beliefs: beliefs.stdout };
}

describe('episteme backup and episteme restore', () => {
  it('restored into an empty directory, the app opens with the stats and the audit export of the source at the backup\'s head', async () => {
    const data = tempDir();
    await assertSome(data, 6);
    await exportAudit(data);
    const exported = readFileSync(join(data, ...AUDIT), 'utf8');
    expect(exported.split('\n')).toHaveLength(7); // six lines and the last newline
    // a line past the head (exported from a record the backup does not hold) is left out of the backup
    appendFileSync(join(data, ...AUDIT), `{"globalPosition":${1e12},"stream":"x"}\n`);
    const atBackup = await appState(data);
    const dest = join(tempDir(), 'backup');
    const r = await cli(['--data', data, '--json', 'backup', dest]);
    expect(r.code, r.stderr).toBe(0);
    const report = json<{ head: number; auditLines: number; stateFiles: number }>(r.stdout);
    expect(report).toMatchObject({ auditLines: 6 });
    expect(report.stateFiles).toBeGreaterThan(0);
    // the source moves on: the restore is of the backup's head, not of the source now
    await assertSome(data, 2, 100);
    expect((await appState(data)).stats).not.toBe(atBackup.stats);

    const restored = join(tempDir(), 'empty');
    mkdirSync(restored);
    const backupBefore = snapshotTree(dest);
    const rr = await cli(['--json', 'restore', dest, restored]);
    expect(rr.code, rr.stderr).toBe(0);
    expect(json(rr.stdout)).toMatchObject({ head: report.head, dir: restored, appFiles: ['audit/assertions.ndjson'] });
    expect(snapshotTree(dest)).toEqual(backupBefore);
    const reopened = await Journal.open({ dir: join(restored, 'journal') });
    expect(reopened.recovery.cuts).toEqual([]);
    expect(reopened.head).toBe(report.head);
    await reopened.close();
    expect(await appState(restored)).toEqual(atBackup);
    expect(readFileSync(join(restored, ...AUDIT), 'utf8')).toBe(exported);
    // the restored app goes on exporting from where its export stood: the new event once, nothing twice
    await assertSome(restored, 1, 200);
    await exportAudit(restored);
    const lines = readFileSync(join(restored, ...AUDIT), 'utf8').trimEnd().split('\n');
    expect(lines.slice(0, 6).join('\n') + '\n').toBe(exported);
    expect(lines).toHaveLength(7);
    expect(new Set(lines.map((l) => (JSON.parse(l) as { globalPosition: number }).globalPosition)).size).toBe(7);

    // a second backup into the same place is incremental, and restores as well
    const again = json<{ incremental: boolean; auditLines: number; head: number }>((await cli(['--data', data, '--json', 'backup', dest])).stdout);
    expect(again).toMatchObject({ incremental: true, auditLines: 6 }); // the two new events were never exported
    const second = tempDir();
    expect((await cli(['restore', dest, second])).code).toBe(0);
    expect(await appState(second)).toEqual(await appState(data));
  });

  it('refuses bad input with a typed error and changes nothing: a non-empty target, a journal-only backup, a damaged file, a journal backed up alone since; a disk full midway leaves the target as it was', async () => {
    const data = tempDir();
    await assertSome(data, 3);
    await exportAudit(data);
    const dest = join(tempDir(), 'backup');
    expect((await cli(['--data', data, 'backup', dest])).code).toBe(0);
    const refused = async (backup: string, target: string, code: string, file?: string): Promise<string> => {
      const before = { backup: snapshotTree(backup), target: snapshotTree(target) };
      const r = await cli(['--json', 'restore', backup, target]);
      expect(r.code, r.stdout).not.toBe(0);
      const error = json<{ error: { code: string; file?: string; message: string } }>(r.stdout).error;
      expect(error.code).toBe(code);
      if (file !== undefined) expect(error.message).toContain(file);
      expect(snapshotTree(backup)).toEqual(before.backup);
      expect(snapshotTree(target)).toEqual(before.target);
      return error.message;
    };
    const backupTree = snapshotTree(dest);
    // a target that is not empty (an unrelated file, or a data directory)
    const other = tempDir();
    writeFileSync(join(other, 'mine.txt'), 'x');
    await refused(dest, other, 'WAL_BACKUP_TARGET');
    await refused(dest, data, 'WAL_BACKUP_TARGET');
    await refused(dest, join(dest, 'inside'), 'WAL_BACKUP_TARGET');
    // the journal's own backup, or a directory that is no backup
    const fresh = join(tempDir(), 'fresh');
    expect(await refused(join(dest, 'journal'), fresh, 'WAL_NOT_A_BACKUP')).toContain('episteme-wal restore');
    await refused(other, fresh, 'WAL_NOT_A_BACKUP');
    // a damaged audit export, then a damaged segment: refused before anything is written
    const auditPath = join(dest, ...AUDIT);
    const audit = readFileSync(auditPath);
    writeFileSync(auditPath, Buffer.from(audit.toString('utf8').replace('"s1"', '"s7"')));
    await refused(dest, fresh, 'WAL_BACKUP_DAMAGED', 'audit/assertions.ndjson');
    writeFileSync(auditPath, audit);
    const segment = join(dest, 'journal', '0000000000000000.wal');
    const bytes = readFileSync(segment);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3]! ^= 0x10;
    writeFileSync(segment, flipped);
    await refused(dest, fresh, 'WAL_BACKUP_DAMAGED', '0000000000000000.wal');
    writeFileSync(segment, bytes);
    // a damaged manifest
    const manifestPath = join(dest, 'APP_BACKUP_MANIFEST');
    const manifest = readFileSync(manifestPath);
    writeFileSync(manifestPath, Buffer.from(manifest.toString('utf8').replace('"format": 1', '"format": 2')));
    await refused(dest, fresh, 'WAL_BACKUP_DAMAGED', 'APP_BACKUP_MANIFEST');
    writeFileSync(manifestPath, manifest);
    // a disk that fills up while the audit export is copied, after the journal was restored: a typed error, and the target as it was
    // (a new target, then an empty one: both left as they were)
    const fullAt = (target: string): FileIO => ({ ...nodeFileIO, open: (path, flags) => (flags === 'w' && path.startsWith(join(target, 'audit')) ? enospc(path) : nodeFileIO.open(path, flags)) });
    expect(() => restoreData({ backup: dest, dir: fresh, io: fullAt(fresh) })).toThrow(expect.objectContaining({ code: 'WAL_IO' }));
    expect(snapshotTree(fresh)).toBeNull();
    const emptyTarget = tempDir();
    expect(() => restoreData({ backup: dest, dir: emptyTarget, io: fullAt(emptyTarget) })).toThrow(expect.objectContaining({ code: 'WAL_IO' }));
    expect(snapshotTree(emptyTarget)).toEqual({});
    expect(snapshotTree(dest)).toEqual(backupTree);
    // the journal backed up alone into it since: the audit export is of another head
    await assertSome(data, 1, 50);
    const walRun = await runWalCli(['backup', join(data, 'journal'), join(dest, 'journal')], { stdout: () => {}, stderr: () => {}, stderrIsTTY: false });
    expect(walRun).toBe(0);
    await refused(dest, fresh, 'WAL_BACKUP_DAMAGED', 'journal/BACKUP_MANIFEST');
    // the next app backup into it makes it whole again
    expect((await cli(['--data', data, 'backup', dest])).code).toBe(0);
    expect((await cli(['restore', dest, fresh])).code).toBe(0);
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
