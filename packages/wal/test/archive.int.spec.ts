import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupJournal, Journal, nodeFileIO, restoreBackup, verifyJournal, type FileIO } from '../src/index.js';
import { flipBit, payloadOf, tempDir } from './helpers.js';
import { runCli } from '../src/cli/main.js';

const wal = (d: string): string[] => readdirSync(d).filter((n) => n.endsWith('.wal')).sort();

async function all(j: Journal): Promise<string[]> {
  const out: string[] = [];
  for await (const r of j.readFrom(0)) out.push(Buffer.from(r.payload).toString('hex'));
  return out;
}

async function filled(dir: string, archiveDir: string, io: FileIO = nodeFileIO): Promise<Journal> {
  const j = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 2048, archiveDir, io });
  for (let i = 0; i < 60; i += 4) await j.appendBatch(Array.from({ length: 4 }, (_, k) => payloadOf(i + k, 200)));
  return j;
}

describe('Journal with an archiveDir', () => {
  it('deleteBelow moves whole sealed segments to the archive; reads from offset 0 go through it, before and after a reopen', async () => {
    const dir = join(tempDir(), 'j');
    const archive = join(tempDir(), 'a');
    const j = await filled(dir, archive);
    const before = await all(j);
    const live = wal(dir);
    const moved = j.deleteBelow(j.head);
    expect(moved).toEqual(live.slice(0, -1)); // never the active segment
    expect(wal(archive)).toEqual(moved);
    expect(wal(dir)).toEqual(live.slice(-1));
    expect(j.earliest).toBe(0);
    expect(await all(j)).toEqual(before);
    expect(j.deleteBelow(j.head)).toEqual([]); // archived segments are not moved again
    await j.close();
    const reopened = await Journal.open({ dir, archiveDir: archive });
    expect(reopened.earliest).toBe(0);
    expect(reopened.recovery.cuts).toEqual([]);
    expect(await all(reopened)).toEqual(before);
    await reopened.close();
    // without the archive the same journal starts where the live segments do
    const plain = await Journal.open({ dir });
    expect(plain.earliest).toBeGreaterThan(0);
    await plain.close();
  });

  it('an archive on another file system: the segment is copied (synced), then removed from the journal', async () => {
    const dir = join(tempDir(), 'j');
    const archive = join(tempDir(), 'a');
    let exdev = 0;
    const io: FileIO = {
      ...nodeFileIO,
      rename: (from, to) => {
        if (to.startsWith(archive) && from.endsWith('.wal')) {
          exdev++;
          throw Object.assign(new Error('cross-device link'), { code: 'EXDEV' });
        }
        nodeFileIO.rename(from, to);
      },
    };
    const j = await filled(dir, archive, io);
    const bytes = Object.fromEntries(wal(dir).map((n) => [n, readFileSync(join(dir, n)).toString('hex')]));
    const moved = j.deleteBelow(j.head);
    expect(exdev).toBe(moved.length);
    for (const n of moved) expect(readFileSync(join(archive, n)).toString('hex')).toBe(bytes[n]);
    expect(readdirSync(archive).filter((n) => !n.endsWith('.wal'))).toEqual([]); // no temporary file left
    expect(wal(dir)).toEqual([wal(dir).at(-1)]);
    await j.close();
  });

  it('verify covers the archive: a damaged archived record is a problem naming the archive file', async () => {
    const dir = join(tempDir(), 'j');
    const archive = join(tempDir(), 'a');
    const j = await filled(dir, archive);
    j.deleteBelow(j.head);
    await j.close();
    expect(verifyJournal(dir, { archiveDir: archive })).toMatchObject({ ok: true, earliest: 0 });
    const victim = join(archive, wal(archive)[1]!);
    flipBit(victim, 200, 0);
    const report = verifyJournal(dir, { archiveDir: archive });
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ segment: victim, reason: 'crc-mismatch' });
  });

  it('episteme-wal verify --archive checks the archived segments too', async () => {
    const dir = join(tempDir(), 'j');
    const archive = join(tempDir(), 'a');
    const j = await filled(dir, archive);
    j.deleteBelow(j.head);
    await j.close();
    let out = '';
    const code = await runCli(['verify', dir, '--archive', archive, '--json'], { stdout: (s) => void (out += s), stderr: () => {}, stderrIsTTY: false });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ ok: true, earliest: 0, segmentsChecked: wal(archive).length + wal(dir).length });
  });

  it('a backup with the archive holds the whole log: restored, it reads from offset 0 without an archive', async () => {
    const dir = join(tempDir(), 'j');
    const archive = join(tempDir(), 'a');
    const j = await filled(dir, archive);
    j.deleteBelow(j.head);
    const records = await all(j);
    await new Promise((r) => setImmediate(r)); // a `none` append's head is published on the next turn (docs/readers.md)
    const dest = join(tempDir(), 'b');
    await expect(backupJournal({ dir, dest: join(archive, 'b'), archiveDir: archive })).rejects.toMatchObject({ code: 'WAL_BACKUP_TARGET', reason: 'inside-journal' });
    const report = await backupJournal({ dir, dest, archiveDir: archive });
    expect(report.earliest).toBe(0);
    await j.close();
    const restored = join(tempDir(), 'r');
    restoreBackup({ backup: dest, dir: restored });
    const r = await Journal.open({ dir: restored });
    expect(r.earliest).toBe(0);
    expect(r.recovery.cuts).toEqual([]);
    expect(await all(r)).toEqual(records);
    await r.close();
  });

  it('bad input: an archiveDir that is no path is refused at open; one that is a file fails the cleanup with a typed error and moves nothing', async () => {
    const dir = join(tempDir(), 'j');
    await expect(Journal.open({ dir, archiveDir: '' })).rejects.toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    await expect(Journal.open({ dir, archiveDir: 'a\0b' })).rejects.toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const j = await filled(dir, file);
    const before = wal(dir);
    const records = await all(j);
    expect(() => j.deleteBelow(j.head)).toThrow(expect.objectContaining({ code: 'WAL_IO' }));
    expect(wal(dir)).toEqual(before);
    expect(j.earliest).toBe(0);
    expect(await all(j)).toEqual(records);
    await j.close();
  });

  it('a reader opened with the archive reads from offset 0 through it, and follows the writer moving more segments there', async () => {
    const dir = join(tempDir(), 'j');
    const archive = join(tempDir(), 'a');
    const j = await filled(dir, archive);
    j.deleteBelow(j.head);
    await j.sync();
    await new Promise((r) => setImmediate(r));
    const reader = await Journal.openForRead({ dir, archiveDir: archive });
    const readAll = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const r of reader.readFrom(0)) out.push(Buffer.from(r.payload).toString('hex'));
      return out;
    };
    expect(reader.earliest).toBe(0);
    expect(await readAll()).toEqual(await all(j));
    for (let i = 100; i < 140; i += 4) await j.appendBatch(Array.from({ length: 4 }, (_, k) => payloadOf(i + k, 200)));
    await j.sync();
    expect(j.deleteBelow(j.head).length).toBeGreaterThan(0);
    await new Promise((r) => setImmediate(r));
    reader.refresh();
    expect(reader.earliest).toBe(0);
    expect(await readAll()).toEqual(await all(j));
    await reader.close();
    // without the archive a reader starts at the first live segment
    const plain = await Journal.openForRead({ dir });
    expect(plain.earliest).toBeGreaterThan(0);
    await plain.close();
    await j.close();
  });
});
