import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupJournal, Journal, readManifest, restoreBackup, type BackupReport } from '../src/index.js';
import { payloadOf, snapshotDir, tempDir } from './helpers.js';

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

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
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
});
