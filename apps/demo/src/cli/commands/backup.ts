import { describeBackup, ProgressLine } from '@episteme/wal/cli';
import { backupData } from '../../backup/backupData.js';
import { defineCommand, Exit } from '../command.js';

export const backupCommand = defineCommand({
  name: 'backup',
  summary: 'back up the data directory while the app runs: <dest>/journal (episteme-wal restore it) and the audit export as of its head',
  positionals: [{ name: 'dest', description: 'backup directory: new, empty, or holding an earlier backup of this app (incremental)' }],
  flags: {},
  async run({ positionals: [dest] }, ctx) {
    const progress = ctx.stderrIsTTY && !ctx.json ? new ProgressLine((s) => ctx.err(s), 'backup', () => performance.now()) : undefined;
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
