import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupJournal, Journal, readManifest, restoreBackup, type BackupReport } from '../src/index.js';
import { HEADER_SIZE } from '../src/internals.js';
import { flipBit, payloadOf, snapshotDir, tempDir, thrown } from './helpers.js';

async function filledJournal(dir: string, records: number, size = 200): Promise<Journal> {
  const j = await Journal.open({ dir, maxSegmentBytes: 16 * 1024, durability: 'none' });
  // batches of 10: a batch never spans segments, so each fills part of one
  for (let i = 0; i < records; i += 10) await j.appendBatch(Array.from({ length: Math.min(10, records - i) }, (_, k) => payloadOf(i + k, size)));
  await j.sync();
  await new Promise((r) => setImmediate(r)); // a `none` append's head is published on the next turn (docs/readers.md)
  return j;
}

async function payloads(dir: string): Promise<Buffer[]> {
  const r = await Journal.openForRead({ dir });
  try {
    const out: Buffer[] = [];
    for await (const rec of r.readFrom(r.earliest)) out.push(Buffer.from(rec.payload));
    return out;
  } finally {
    await r.close();
  }
}

describe('backupJournal and restoreBackup', () => {
  it('backs up a journal its writer holds open, restores it, and the restored journal opens with no recovery cut and the same records', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await filledJournal(dir, 300);
    mkdirSync(join(dir, 'consumers'));
    writeFileSync(join(dir, 'consumers', 'a.cursor'), 'some state');
    const dest = join(tempDir(), 'backup');
    const report = await backupJournal({ dir, dest });
    expect(report.head).toBe(j.head);
    expect(report.segments.linked).toBeGreaterThan(1); // same file system: sealed segments linked
    expect(report.segments.copied).toBe(1); // the last one, cut at the head
    await j.close();
    const restored = join(tempDir(), 'restored');
    const r = restoreBackup({ backup: dest, dir: restored });
    expect(r.head).toBe(report.head);
    expect(readFileSync(join(restored, 'consumers', 'a.cursor'), 'utf8')).toBe('some state');
    expect(existsSync(join(restored, 'LOCK'))).toBe(false);
    const opened = await Journal.open({ dir: restored });
    expect(opened.truncatedAt).toBeUndefined();
    expect(opened.recovery.cuts).toEqual([]);
    expect(opened.head).toBe(report.head);
    await opened.close();
    expect(await payloads(restored)).toEqual(await payloads(dir));
  });

  it('an incremental backup copies only the segments that are new, and the last one; the byte counts say so', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await filledJournal(dir, 300);
    const dest = join(tempDir(), 'backup');
    // copies instead of links, so that bytesCopied counts what a backup on another file system writes
    const first = await backupJournal({ dir, dest, hardLinks: false });
    const list = j.segmentList();
    const sealedBefore = list.length - 1;
    // the sealed segments whole, the last up to the head (the writer's preallocated space past it is left out)
    const bytesUpToHead = (names: { name: string; base: number }[]): number =>
      names.slice(0, -1).reduce((n, s) => n + statSync(join(dir, s.name)).size, 0) + HEADER_SIZE + j.head - names.at(-1)!.base;
    expect(first.segments.copied).toBe(list.length);
    expect(first.bytesCopied).toBe(bytesUpToHead(list));
    for (let i = 0; i < 100; i += 10) await j.appendBatch(Array.from({ length: 10 }, (_, k) => payloadOf(1000 + i + k, 200)));
    await j.sync();
    await new Promise((r) => setImmediate(r));
    const segmentsNow = j.segmentList();
    const second = await backupJournal({ dir, dest, hardLinks: false });
    expect(second.incremental).toBe(true);
    expect(second.segments.kept).toBe(sealedBefore);
    expect(second.segments.copied).toBe(segmentsNow.length - sealedBefore);
    // exactly the bytes of the segments from the earlier backup's last one on: nothing it already had sealed
    expect(second.bytesCopied).toBe(bytesUpToHead(segmentsNow.slice(sealedBefore)));
    expect(second.head).toBe(j.head);
    await j.close();
    const restored = join(tempDir(), 'restored');
    restoreBackup({ backup: dest, dir: restored });
    expect(await payloads(restored)).toEqual(await payloads(dir));
  });

  it('restore refuses a backup with a damaged file, naming it, and makes nothing', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await filledJournal(dir, 200);
    const dest = join(tempDir(), 'backup');
    await backupJournal({ dir, dest, hardLinks: false });
    await j.close();
    const victim = readdirSync(dest).filter((n) => n.endsWith('.wal'))[1]!;
    flipBit(join(dest, victim), 100, 4);
    const backupBefore = snapshotDir(dest);
    const target = join(tempDir(), 'restored');
    const err = thrown(() => restoreBackup({ backup: dest, dir: target }));
    expect(err).toMatchObject({ code: 'WAL_BACKUP_DAMAGED', file: victim });
    expect(String((err as Error).message)).toContain(victim);
    expect(existsSync(target)).toBe(false);
    expect(snapshotDir(dest)).toEqual(backupBefore);
  });

  it('restore refuses a missing file and a damaged manifest, naming each', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await filledJournal(dir, 100);
    mkdirSync(join(dir, 'projections'));
    writeFileSync(join(dir, 'projections', 'p.snapshot'), 'x');
    const dest = join(tempDir(), 'backup');
    await backupJournal({ dir, dest });
    await j.close();
    const { rmSync } = await import('node:fs');
    rmSync(join(dest, 'projections', 'p.snapshot'));
    expect(thrown(() => restoreBackup({ backup: dest, dir: join(tempDir(), 'r1') }))).toMatchObject({ code: 'WAL_BACKUP_DAMAGED', file: 'projections/p.snapshot' });
    flipBit(join(dest, 'BACKUP_MANIFEST'), statSync(join(dest, 'BACKUP_MANIFEST')).size - 5, 0);
    expect(thrown(() => restoreBackup({ backup: dest, dir: join(tempDir(), 'r2') }))).toMatchObject({ code: 'WAL_BACKUP_DAMAGED', file: 'BACKUP_MANIFEST' });
    expect(thrown(() => restoreBackup({ backup: dir, dir: join(tempDir(), 'r3') }))).toMatchObject({ code: 'WAL_NOT_A_BACKUP' });
  });

  describe('bad input: a typed error, and nothing changes', () => {
    it('a backup into the journal itself, into a directory inside it, or into a directory holding it', async () => {
      const parent = tempDir();
      const dir = join(parent, 'journal');
      const j = await filledJournal(dir, 50);
      mkdirSync(join(dir, 'consumers'));
      const before = snapshotDir(parent);
      for (const [dest, reason] of [
        [dir, 'inside-journal'],
        [join(dir, 'consumers'), 'inside-journal'],
        [join(dir, 'new-backup'), 'inside-journal'],
        [parent, 'journal-inside-target'],
      ] as const) {
        await expect(backupJournal({ dir, dest }), dest).rejects.toMatchObject({ code: 'WAL_BACKUP_TARGET', reason });
      }
      expect(snapshotDir(parent)).toEqual(before);
      await j.close();
    });

    it('a backup into a non-empty directory that holds no backup (or into a file)', async () => {
      const dir = join(tempDir(), 'journal');
      const j = await filledJournal(dir, 50);
      const other = tempDir();
      writeFileSync(join(other, 'notes.txt'), 'mine');
      writeFileSync(join(other, 'file'), 'x');
      const before = snapshotDir(other);
      await expect(backupJournal({ dir, dest: other })).rejects.toMatchObject({ code: 'WAL_BACKUP_TARGET', reason: 'not-empty' });
      await expect(backupJournal({ dir, dest: join(other, 'file') })).rejects.toMatchObject({ code: 'WAL_BACKUP_TARGET', reason: 'not-a-directory' });
      expect(snapshotDir(other)).toEqual(before);
      await j.close();
    });

    it('a restore over a live journal, into a non-empty directory, or into the backup', async () => {
      const dir = join(tempDir(), 'journal');
      const j = await filledJournal(dir, 50);
      const dest = join(tempDir(), 'backup');
      await backupJournal({ dir, dest });
      // the segments: the writer's own small files may change as it settles
      const segmentsOf = (d: string): Record<string, string> => Object.fromEntries(Object.entries(snapshotDir(d)).filter(([k]) => k.endsWith('.wal')));
      const liveBefore = segmentsOf(dir);
      const backupBefore = snapshotDir(dest);
      expect(thrown(() => restoreBackup({ backup: dest, dir }))).toMatchObject({ code: 'WAL_BACKUP_TARGET', reason: 'holds-journal' });
      const other = tempDir();
      writeFileSync(join(other, 'notes.txt'), 'mine');
      expect(thrown(() => restoreBackup({ backup: dest, dir: other }))).toMatchObject({ code: 'WAL_BACKUP_TARGET', reason: 'not-empty' });
      expect(thrown(() => restoreBackup({ backup: dest, dir: join(dest, 'inner') }))).toMatchObject({ code: 'WAL_BACKUP_TARGET', reason: 'inside-journal' });
      expect(snapshotDir(dest)).toEqual(backupBefore);
      expect(readdirSync(other)).toEqual(['notes.txt']);
      expect(segmentsOf(dir)).toEqual(liveBefore);
      await j.append(payloadOf(1, 10)); // the writer never noticed
      await j.close();
    });
  });
});
