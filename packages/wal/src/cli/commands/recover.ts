import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../format/constants.js';
import { nodeFileIO } from '../../io/fileIO.js';
import { WriterLock } from '../../journal/writerLock.js';
import { recoverJournal } from '../../recovery/recover.js';
import type { RecoveryReport } from '../../recovery/report.js';
import { commonFlags, defineCommand, ExitCode } from '../command.js';
import { journalSegments } from '../journalDir.js';
import { describeCut, formatBytes, plural } from '../output.js';
import { progressFor } from '../progress.js';

/**
 * Writer recovery from the command line: what opening the journal would do,
 * so an operator can run it (and read the report) before the application
 * starts. Damage in sealed data is refused (QuarantineError, exit 1) unless
 * --repair, because repair moves acknowledged records out of the log.
 */
export const recoverCommand = defineCommand({
  name: 'recover',
  summary: 'run writer recovery: quarantine a torn tail; --repair for sealed damage',
  positionals: [{ name: 'dir', description: 'journal directory (takes the writer lock: refused while a writer has it open)' }],
  flags: {
    repair: {
      type: 'boolean',
      description: 'also quarantine damaged sealed data: everything from the damaged record to the end of the log',
    },
    json: { ...commonFlags.json, description: 'print the RecoveryReport: {"head","cuts":[...],...}' },
    'max-payload-bytes': commonFlags.maxPayloadBytes,
  },
  async run({ positionals: [dir], flags }, ctx) {
    journalSegments(dir!);
    // Recovery truncates files: a writer must not be appending meanwhile.
    const lock = await WriterLock.acquire(nodeFileIO, dir!);
    const progress = progressFor(ctx, 'recover', flags.json);
    let report: RecoveryReport;
    try {
      report = recoverJournal(dir!, {
        repair: flags.repair,
        maxPayloadBytes: flags['max-payload-bytes'] ?? DEFAULT_MAX_PAYLOAD_BYTES,
        onProgress: progress?.update,
      });
    } finally {
      progress?.clear();
      lock.release();
    }
    await ctx.out(flags.json ? JSON.stringify(report) + '\n' : describe(report));
    return ExitCode.Ok;
  },
});

function describe(report: RecoveryReport): string {
  const lines = report.cuts.map((c) => describeCut(c) + '\n');
  if (report.repaired) lines.push('repaired: damaged sealed data was moved to quarantine/\n');
  if (report.freeSpaceBytes > 0) lines.push(`free space: ${report.freeSpaceBytes} preallocated zero bytes after the head, kept\n`);
  lines.push(
    `ok: head ${report.head}, earliest ${report.earliest}; ${plural(report.segmentsChecked, 'segment')}, ` +
      `${plural(report.recordsVerified, 'record')} (${formatBytes(report.bytesVerified)}) verified; ` +
      `${report.cuts.length === 0 ? 'nothing cut' : plural(report.cuts.length, 'cut')}\n`,
  );
  return lines.join('');
}
