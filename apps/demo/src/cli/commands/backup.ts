import { describeBackup, describeRestore, ProgressLine } from '@episteme/wal/cli';
import { backupData } from '../../backup/backupData.js';
import { restoreData } from '../../backup/restoreData.js';
import { defineCommand, Exit } from '../command.js';
import type { CommandContext } from '../context.js';

export const backupCommand = defineCommand({
  name: 'backup',
  summary: 'back up the data directory while the app runs: the journal and the audit export as of its head (episteme restore it)',
  positionals: [{ name: 'dest', description: 'backup directory: new, empty, or holding an earlier backup of this app (incremental)' }],
  flags: {},
  async run({ positionals: [dest] }, ctx) {
    const progress = progressLine(ctx, 'backup');
    let report;
    try {
      report = await backupData(ctx.config.dataDir, dest!, progress && ((p) => progress.update({ segment: p.phase, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal })));
    } finally {
      progress?.clear();
    }
    await ctx.out(ctx.json ? JSON.stringify(report) + '\n' : describeBackup(report) + `audit export: ${report.auditLines} lines below the head\n`);
    return Exit.Ok;
  },
});

export const restoreCommand = defineCommand({
  name: 'restore',
  summary: 'make a data directory from an episteme backup (the journal and the audit export), after verifying every file',
  positionals: [
    { name: 'backup', description: 'backup directory written by episteme backup (holds APP_BACKUP_MANIFEST)' },
    { name: 'dir', description: 'the data directory to make: new or empty (then run the app with --data <dir>)' },
  ],
  flags: {},
  async run({ positionals: [backup, dir] }, ctx) {
    const progress = progressLine(ctx, 'restore');
    let report;
    try {
      report = restoreData({ backup: backup!, dir: dir!, maxPayloadBytes: ctx.config.maxPayloadBytes, ...(progress && { onProgress: (p) => progress.update({ segment: p.phase, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }) }) });
    } finally {
      progress?.clear();
    }
    await ctx.out(ctx.json ? JSON.stringify(report) + '\n' : describeRestore(report));
    return Exit.Ok;
  },
});

function progressLine(ctx: CommandContext, label: string): ProgressLine | undefined {
  return ctx.stderrIsTTY && !ctx.json ? new ProgressLine((s) => ctx.err(s), label, () => performance.now()) : undefined;
}
