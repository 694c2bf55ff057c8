import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { backupJournal, Journal, restoreBackup } from '@episteme/wal';
import { runArchiveRebuild } from '../lib/archiveRebuild.js';
import { median } from '../lib/timing.js';
import type { BenchContext, Mode } from '../lib/types.js';

/**
 * Online backup (issue 28), MB/s of journal backed up, against a plain
 * `cp -r` of the same stopped journal in the same run: a backup into a new
 * directory on the same file system (sealed segments hard-linked), the same
 * with every segment copied (`hardLinks: false`, what a backup on another
 * disk does), an incremental backup into the previous one with nothing new,
 * and a restore. Each backup also reads everything back to verify it, which
 * `cp -r` does not. The rows run in rotation, round after round; ratios are
 * medians of same-round ratios. The page cache is warm for all of them.
 * Then the archive tier's read cost (bench/lib/archiveRebuild.ts): a
 * projection rebuilt from offset 0 through the archive against the same log
 * all live.
 */
export const name = 'backup';

const MiB = 1024 * 1024;
const SIZES: Record<Mode, { journalMiB: number; rounds: number }> = {
  full: { journalMiB: 256, rounds: 7 },
  quick: { journalMiB: 64, rounds: 5 },
  smoke: { journalMiB: 2, rounds: 1 },
};

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const root = ctx.tempDir('episteme-bench-backup-');
  const dir = join(root, 'journal');
  const j = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 16 * MiB });
  const payload = new Uint8Array(4096).fill(7);
  const batch = Array.from({ length: 64 }, () => payload);
  while (j.head < size.journalMiB * MiB) await j.appendBatch(batch);
  const bytes = j.head;
  const segments = j.segmentList().length;
  await j.close();
  ctx.log(`journal of ${(bytes / MiB).toFixed(0)} MiB in ${segments} segments; ${size.rounds} rounds`);

  const incremental = join(root, 'incremental');
  await backupJournal({ dir, dest: incremental });
  const restoreFrom = join(root, 'restore-from');
  await backupJournal({ dir, dest: restoreFrom, hardLinks: false });

  const rows = {
    cp: { label: 'cp -r of the stopped journal', ms: [] as number[] },
    cpSync: { label: 'cp -r, then sync -f (the copy made durable, as a backup is)', ms: [] as number[] },
    linked: { label: 'backupJournal, new directory, same file system (sealed segments linked), verified', ms: [] as number[] },
    copied: { label: 'backupJournal, new directory, every segment copied (hardLinks: false), verified', ms: [] as number[] },
    incremental: { label: 'backupJournal into the previous backup, nothing new (kept), verified', ms: [] as number[] },
    restore: { label: 'restoreBackup of a copied backup (verify, then copy)', ms: [] as number[] },
  };
  const time = async (fn: () => unknown): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const target = join(root, 'target');
  for (let r = 0; r < size.rounds; r++) {
    const steps: [keyof typeof rows, () => unknown][] = [
      ['cp', () => spawnSync('cp', ['-r', dir, target], { stdio: 'ignore' })],
      ['cpSync', () => spawnSync('sh', ['-c', 'cp -r "$1" "$2" && sync -f "$2"', 'sh', dir, target], { stdio: 'ignore' })],
      ['linked', () => backupJournal({ dir, dest: target })],
      ['copied', () => backupJournal({ dir, dest: target, hardLinks: false })],
      ['incremental', () => backupJournal({ dir, dest: incremental })],
      ['restore', () => restoreBackup({ backup: restoreFrom, dir: target })],
    ];
    for (let k = 0; k < steps.length; k++) {
      const [key, fn] = steps[(r + k) % steps.length]!;
      rows[key].ms.push(await time(fn));
      rmSync(target, { recursive: true, force: true });
    }
  }
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
  const sameRound = (key: keyof typeof rows, base: keyof typeof rows): number => median(rows[key].ms.map((ms, i) => rows[base].ms[i]! / ms));
  ctx.report({
    title: `backup: a ${(bytes / MiB).toFixed(0)} MiB journal (4 KiB records, 16 MiB segments), MB/s`,
    notes: [
      'MB/s = journal bytes / median time. ratio = cp -r time (or cp -r + sync) / this row\'s time, median of same-round ratios (> 1: faster).',
      'A backup and a restore sync every file they write (and their directories); plain cp -r leaves the copy in the page cache.',
      'Every backup reads each file back against its manifest (CRC32C) and checks the last segment record by record; cp -r checks nothing.',
      'Same disk, warm page cache; the temp directory is on the journal\'s file system, so links are possible.',
    ],
    columns: ['workload', 'median ms', 'MB/s', 'ratio to cp -r', 'to cp -r + sync'],
    rows: (Object.keys(rows) as (keyof typeof rows)[]).map((k) => [
      rows[k].label,
      median(rows[k].ms),
      mbps(median(rows[k].ms)),
      k === 'cp' ? null : sameRound(k, 'cp'),
      k === 'cp' || k === 'cpSync' ? null : sameRound(k, 'cpSync'),
    ]),
  });
  await runArchiveRebuild(ctx);
}
