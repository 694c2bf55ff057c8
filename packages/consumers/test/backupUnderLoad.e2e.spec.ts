import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupJournal, Journal, restoreBackup, type BackupReport } from '@episteme/wal';
import { CURSOR_POSITIONS, decodeCursorFile } from '../src/index.js';
import { readFileSync } from 'node:fs';
import { tempDir } from './helpers.js';
import { spawnChild, type Child } from '../../wal/test/children/spawn.js';
import { SOAK } from '../../wal/test/rng.js';

const ROUNDS = 4 * SOAK;

/** The acknowledged records the parent has read so far: offset -> payload prefix. */
function acked(child: Child, into: Map<number, string>): Map<number, string> {
  for (const line of child.lines) {
    if (!line.startsWith('a ')) continue;
    const [, offset, id] = line.split(' ');
    into.set(Number(offset), id!);
  }
  return new Map(into);
}

async function startWriter(dir: string): Promise<Child> {
  const child = spawnChild('../../../consumers/test/children/loadWriter.ts', [dir]);
  await child.waitFor((l) => l.startsWith('ready '), 60_000);
  // some records and cursor commits before the first backup
  await child.waitFor((l) => l.startsWith('a ') && Number(l.split(' ')[1]) > 100_000, 60_000);
  return child;
}

/**
 * A restored backup opens with no recovery cut, holds every record the
 * writer had acknowledged before the backup started, and its consumer
 * cursor lies within its log.
 */
async function checkRestored(backup: string, report: BackupReport, before: Map<number, string>): Promise<void> {
  const dir = join(tempDir(), 'restored');
  restoreBackup({ backup, dir });
  const j = await Journal.open({ dir });
  try {
    expect(j.recovery.cuts).toEqual([]);
    expect(j.truncatedAt).toBeUndefined();
    expect(j.head).toBe(report.head);
    let checked = 0;
    for (const [offset, id] of before) {
      if (offset < j.earliest) continue; // passed by the consumer and cleaned up before the backup: not the backup's to hold
      const rec = j.read(offset);
      expect(rec, `acknowledged record at ${offset} missing`).toBeDefined();
      expect(Buffer.from(rec!.payload).toString().startsWith(`${id}:`)).toBe(true);
      checked++;
    }
    expect(checked, 'acknowledged records within the backup').toBeGreaterThan(0);
    const cursor = decodeCursorFile(readFileSync(join(dir, 'consumers', 'follower.cursor')), 'follower').cursor;
    expect(cursor).toBeLessThanOrEqual(j.head);
    expect(cursor).toBeGreaterThanOrEqual(j.earliest);
    expect(cursor, 'the consumer had committed').toBeGreaterThan(0);
    if (cursor < j.head) expect(j.read(cursor), 'the cursor is a record boundary').toBeDefined();
  } finally {
    await j.close();
  }
}

describe('online backup under load', () => {
  it(`backs up a journal written by 64 group-commit appenders with a consumer committing, ${ROUNDS} times, one with a SIGKILL of the writer during the copy; each restored backup is whole`, async () => {
    const dir = join(tempDir(), 'journal');
    const dest = join(tempDir(), 'backup');
    let child = await startWriter(dir);
    const seen = new Map<number, string>();
    const killRound = 1;
    for (let round = 0; round < ROUNDS; round++) {
      const before = acked(child, seen);
      let killed = false;
      const report = await backupJournal({
        dir,
        dest,
        hardLinks: round % 2 === 0,
        statePositions: [CURSOR_POSITIONS],
        onProgress: (p) => {
          if (round === killRound && !killed && p.phase === 'copy') {
            killed = true;
            child.proc.kill('SIGKILL');
          }
        },
      });
      expect(report.incremental).toBe(round > 0);
      if (round === killRound) {
        expect(killed).toBe(true);
        await child.exited;
      }
      // the writer acknowledged more meanwhile: the backup holds at least what was acknowledged before it
      const maxBefore = Math.max(...before.keys());
      expect(report.head).toBeGreaterThan(maxBefore);
      await checkRestored(dest, report, before);
      if (round === killRound) child = await startWriter(dir); // its recovery sees the SIGKILL's tail
      else await child.waitFor((l) => l.startsWith('a ') && Number(l.split(' ')[1]) > report.head + 20_000, 60_000);
    }
    child.proc.kill('SIGKILL');
    await child.exited;
  });
});
