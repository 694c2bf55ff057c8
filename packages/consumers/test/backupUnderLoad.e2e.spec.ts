import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupJournal, Journal, nodeFileIO, restoreBackup, type BackupReport, type FileIO } from '@episteme/wal';
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

/** Blocks until the process `pid` has died (a zombie, or reaped): the kill has landed before the next step of the backup. */
function waitDeadSync(pid: number): void {
  for (let i = 0; i < 10_000; i++) {
    let state: string;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!;
    } catch {
      return; // reaped
    }
    if (state === 'Z' || state === 'X') return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
  throw new Error(`process ${pid} did not die`);
}

/**
 * Where a round SIGKILLs the writer, and a FileIO for the backup that does
 * it: during the copy (the progress callback), or inside the capture of the
 * journal's instant (captureJournal's steps): once the segments were
 * listed and held, as the consumer's cursor is read, before the head is
 * taken (the head then comes from a dead writer's published head); or
 * after the head was taken, as the segment holding it is synced. The
 * capture's kills wait until the writer is dead before the step goes on.
 */
type KillPoint = 'copy' | 'capture: cursor read' | 'capture: head synced';
const KILLS: ReadonlyMap<number, KillPoint> = new Map([
  [1, 'copy'],
  [2, 'capture: cursor read'],
  [3, 'capture: head synced'],
]);

function killingIO(point: KillPoint | undefined, source: string, kill: () => void): FileIO {
  if (point === undefined || point === 'copy') return nodeFileIO;
  const sourceSegments = new Set<number>();
  return {
    ...nodeFileIO,
    open(path, flags) {
      const inSource = path.startsWith(source + '/');
      if (point === 'capture: cursor read' && inSource && path.endsWith('follower.cursor')) kill();
      const fd = nodeFileIO.open(path, flags);
      if (inSource && path.endsWith('.wal')) sourceSegments.add(fd);
      else sourceSegments.delete(fd); // a descriptor number used again
      return fd;
    },
    fsync(fd) {
      // the only fsync of a source segment a backup makes: the capture's step 4
      if (point === 'capture: head synced' && sourceSegments.has(fd)) kill();
      nodeFileIO.fsync(fd);
    },
  };
}

describe('online backup under load', () => {
  it(`backs up a journal written by 64 group-commit appenders with a consumer committing, ${ROUNDS} times, SIGKILLs of the writer during the copy and during the capture of the head; each restored backup is whole`, async () => {
    const dir = join(tempDir(), 'journal');
    const dest = join(tempDir(), 'backup');
    let child = await startWriter(dir);
    const seen = new Map<number, string>();
    for (let round = 0; round < ROUNDS; round++) {
      const before = acked(child, seen);
      const point = KILLS.get(round);
      let killed = false;
      const kill = (): void => {
        if (killed) return;
        killed = true;
        child.proc.kill('SIGKILL');
        if (point !== 'copy') waitDeadSync(child.proc.pid!);
      };
      const report = await backupJournal({
        dir,
        dest,
        io: killingIO(point, dir, kill),
        hardLinks: round % 2 === 0,
        statePositions: [CURSOR_POSITIONS],
        onProgress: (p) => {
          if (point === 'copy' && p.phase === 'copy') kill();
        },
      });
      expect(report.incremental).toBe(round > 0);
      if (point !== undefined) {
        expect(killed, `the kill at ${point} happened`).toBe(true);
        await child.exited;
      }
      // the writer acknowledged more meanwhile: the backup holds at least what was acknowledged before it
      const maxBefore = Math.max(...before.keys());
      expect(report.head).toBeGreaterThan(maxBefore);
      await checkRestored(dest, report, before);
      if (point !== undefined) child = await startWriter(dir); // its recovery sees the SIGKILL's tail
      else await child.waitFor((l) => l.startsWith('a ') && Number(l.split(' ')[1]) > report.head + 20_000, 60_000);
    }
    child.proc.kill('SIGKILL');
    await child.exited;
  });
});
