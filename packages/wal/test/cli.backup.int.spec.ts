import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/main.js';
import { Journal } from '../src/index.js';
import { payloadOf, snapshotDir, tempDir } from './helpers.js';

async function cli(argv: string[], io: Partial<CliIO> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stderrIsTTY: false, ...io });
  return { code, stdout, stderr };
}

async function journalWith(records: number): Promise<string> {
  const dir = join(tempDir(), 'journal');
  const j = await Journal.open({ dir, maxSegmentBytes: 8 * 1024 });
  for (let i = 0; i < records; i += 5) await j.appendBatch(Array.from({ length: 5 }, (_, k) => payloadOf(i + k, 300)));
  await j.close();
  return dir;
}

describe('episteme-wal backup and restore', () => {
  it('backup then restore, in text and in --json; the restored journal opens with no cut', async () => {
    const dir = await journalWith(100);
    const dest = join(tempDir(), 'b');
    const text = await cli(['backup', dir, dest]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ok: backed up offsets \[0, \d+\] to .*segments: 1 copied, \d+ linked, 0 kept; 0 state files; .* verified\n$/);
    const again = await cli(['backup', dir, dest, '--json', '--copy']);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as { incremental: boolean; segments: { kept: number; copied: number; linked: number }; head: number };
    expect(report.incremental).toBe(true);
    expect(report.segments.copied).toBe(1);
    expect(report.segments.linked).toBe(0);
    const target = join(tempDir(), 'r');
    const restored = await cli(['restore', dest, target, '--json']);
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ head: report.head, dir: target });
    const j = await Journal.open({ dir: target });
    expect(j.recovery.cuts).toEqual([]);
    expect(j.head).toBe(report.head);
    await j.close();
  });

  it('refusals exit 2 with the typed code in --json, and change nothing', async () => {
    const dir = await journalWith(20);
    const other = tempDir();
    writeFileSync(join(other, 'x'), 'y');
    const before = snapshotDir(other);
    const into = await cli(['backup', dir, other, '--json']);
    expect(into.code).toBe(2);
    expect(JSON.parse(into.stdout)).toMatchObject({ error: { code: 'WAL_BACKUP_TARGET' } });
    expect(into.stderr).toMatch(/^episteme-wal backup: refusing .*non-empty directory that holds no backup \(x\); nothing was changed\n$/);
    expect(snapshotDir(other)).toEqual(before);
    const notBackup = await cli(['restore', other, join(tempDir(), 'r'), '--json']);
    expect(notBackup.code).toBe(2);
    expect(JSON.parse(notBackup.stdout)).toMatchObject({ error: { code: 'WAL_NOT_A_BACKUP' } });
    const dest = join(tempDir(), 'b');
    expect((await cli(['backup', dir, dest])).code).toBe(0);
    const overJournal = await cli(['restore', dest, dir]);
    expect(overJournal.code).toBe(2);
    expect(overJournal.stderr).toContain('holds a journal');
    const segment = readdirSync(dest).find((n) => n.endsWith('.wal'))!;
    writeFileSync(join(dest, segment), 'damaged');
    const damaged = await cli(['restore', dest, join(tempDir(), 'r2'), '--json']);
    expect(damaged.code).toBe(1);
    expect(JSON.parse(damaged.stdout)).toMatchObject({ error: { code: 'WAL_BACKUP_DAMAGED' } });
    expect(damaged.stderr).toContain(segment);
  });

  it('draws a progress line on a terminal and erases it before the report', async () => {
    const dir = await journalWith(200);
    let t = 0;
    const run = await cli(['backup', dir, join(tempDir(), 'b')], { stderrIsTTY: true, now: () => (t += 1000) });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\rbackup +\d+% {2}(copy|verify) {2}/);
    expect(run.stderr.endsWith('\r')).toBe(true);
  });
});
