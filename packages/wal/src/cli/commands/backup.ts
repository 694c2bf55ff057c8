import { backupJournal, restoreBackup, type BackupReport, type RestoreReport } from '../../backup/index.js';
import { commonFlags, defineCommand, ExitCode, type CliContext } from '../command.js';
import { formatBytes, plural } from '../output.js';
import { progressFor, type ProgressLine } from '../progress.js';

/** A progress line fed by a copy or verify phase (the phase shows where the segment name would). */
function feed(progress: ProgressLine | undefined): ((p: { phase: string; bytesDone: number; bytesTotal: number }) => void) | undefined {
  return progress && ((p) => progress.update({ segment: p.phase, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }));
}

export const backupCommand = defineCommand({
  name: 'backup',
  summary: 'back up a journal while its writer runs (incremental into an earlier backup); verified before it reports success',
  positionals: [
    { name: 'dir', description: 'journal directory' },
    { name: 'dest', description: 'backup directory: new, empty, or holding an earlier backup of this journal' },
  ],
  flags: {
    json: { ...commonFlags.json, description: 'print the BackupReport: {"head","earliest","segments":{"copied","linked","kept"},"bytesCopied",...}' },
    copy: { type: 'boolean', description: 'copy sealed segments even where a hard link could be made' },
    archive: { type: 'string', value: 'dir', description: 'the journal\'s archive directory (archiveDir): its segments go into the backup too' },
    'max-payload-bytes': commonFlags.maxPayloadBytes,
  },
  async run({ positionals: [dir, dest], flags }, ctx) {
    const progress = progressFor(ctx, 'backup', flags.json);
    let report: BackupReport;
    try {
      report = await backupJournal({
        dir: dir!,
        dest: dest!,
        hardLinks: !flags.copy,
        ...(flags.archive !== undefined && { archiveDir: flags.archive }),
        ...(flags['max-payload-bytes'] !== undefined && { maxPayloadBytes: flags['max-payload-bytes'] }),
        onProgress: feed(progress),
      });
    } finally {
      progress?.clear();
    }
    await ctx.out(flags.json ? JSON.stringify(report) + '\n' : describeBackup(report));
    return ExitCode.Ok;
  },
});

export const restoreCommand = defineCommand({
  name: 'restore',
  summary: 'make a journal from a backup in a new or empty directory, after verifying every file',
  positionals: [
    { name: 'backup', description: 'backup directory (holds BACKUP_MANIFEST)' },
    { name: 'dir', description: 'where the journal is made: a new or empty directory' },
  ],
  flags: {
    json: { ...commonFlags.json, description: 'print the RestoreReport: {"head","earliest","files","bytes","takenAt"}' },
    'max-payload-bytes': commonFlags.maxPayloadBytes,
  },
  async run({ positionals: [backup, dir], flags }, ctx) {
    const report = withProgress(ctx, 'restore', flags.json, (onProgress) =>
      restoreBackup({ backup: backup!, dir: dir!, ...(flags['max-payload-bytes'] !== undefined && { maxPayloadBytes: flags['max-payload-bytes'] }), onProgress }),
    );
    await ctx.out(flags.json ? JSON.stringify(report) + '\n' : describeRestore(report));
    return ExitCode.Ok;
  },
});

function withProgress<T>(ctx: CliContext, label: string, json: boolean, run: (onProgress: ReturnType<typeof feed>) => T): T {
  const progress = progressFor(ctx, label, json);
  try {
    return run(feed(progress));
  } finally {
    progress?.clear();
  }
}

export function describeBackup(r: BackupReport): string {
  const s = r.segments;
  return (
    `ok: backed up offsets [${r.earliest}, ${r.head}] to ${r.dest}${r.incremental ? ' (incremental)' : ''}; ` +
    `segments: ${s.copied} copied, ${s.linked} linked, ${s.kept} kept; ${plural(r.stateFiles, 'state file')}; ` +
    `${formatBytes(r.bytesCopied)} written, ${formatBytes(r.bytesVerified)} verified` +
    (r.removed.length > 0 ? `; ${plural(r.removed.length, 'file')} the journal no longer has removed from the backup` : '') +
    '\n'
  );
}

export function describeRestore(r: RestoreReport): string {
  return `ok: restored offsets [${r.earliest}, ${r.head}] (backup taken ${r.takenAt}) into ${r.dir}: ${plural(r.files, 'file')}, ${formatBytes(r.bytes)}, verified\n`;
}
