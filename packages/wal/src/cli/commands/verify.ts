import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../format/constants.js';
import { nodeFileIO } from '../../io/fileIO.js';
import { readPublishedHead } from '../../journal/publishedHead.js';
import { verifyJournal } from '../../recovery/verify.js';
import { commonFlags, defineCommand, ExitCode } from '../command.js';
import { journalSegments } from '../journalDir.js';
import { formatBytes, plural } from '../output.js';
import { progressFor } from '../progress.js';

/** Read-only full check; the exit code is the verdict, so scripts need no parsing. */
export const verifyCommand = defineCommand({
  name: 'verify',
  summary: 'check every header and record of every segment; changes nothing',
  positionals: [{ name: 'dir', description: 'journal directory' }],
  flags: {
    json: { ...commonFlags.json, description: 'print the VerifyReport: {"ok",...,"problems":[...]} (a problem past the published head has "pastPublishedHead": true)' },
    'max-payload-bytes': commonFlags.maxPayloadBytes,
    archive: { type: 'string', value: 'dir', description: 'the journal\'s archive directory (archiveDir): its segments are verified too' },
  },
  async run({ positionals: [dir], flags }, ctx) {
    journalSegments(dir!);
    // Read before the scan: a problem at or past the head a writer had
    // published then may be a write in progress (readers stop there too);
    // below it, the writer had acknowledged the bytes, so it is damage.
    const published = readPublishedHead(nodeFileIO, dir!);
    const progress = progressFor(ctx, 'verify', flags.json);
    let report;
    try {
      report = verifyJournal(dir!, {
        maxPayloadBytes: flags['max-payload-bytes'] ?? DEFAULT_MAX_PAYLOAD_BYTES,
        onProgress: progress?.update,
        ...(flags.archive !== undefined && { archiveDir: flags.archive }),
      });
    } finally {
      progress?.clear();
    }
    const code = report.ok ? ExitCode.Ok : ExitCode.Problem;
    const last = report.segments.at(-1)?.name;
    const pending = (p: { segment: string; offset: number }): boolean => typeof published === 'number' && p.segment === last && p.offset >= published;
    if (flags.json) {
      const problems = report.problems.map((p) => (pending(p) ? { ...p, pastPublishedHead: true } : p));
      await ctx.out(JSON.stringify({ ...report, problems }) + '\n');
      return code;
    }
    const lines = report.problems.map(
      (p) => `problem: ${p.message}${pending(p) ? ` (at or past the head the writer had published, ${String(published)}: a write in progress if a writer is running; verify again)` : ''}\n`,
    );
    const deleted = report.deletedWhileVerifying ?? [];
    if (deleted.length > 0) lines.push(`note: ${plural(deleted.length, 'segment')} deleted by the writer's cleanup while verifying (${deleted[0]}${deleted.length > 1 ? ` .. ${deleted.at(-1)}` : ''}), not checked\n`);
    const summary =
      `${plural(report.segmentsChecked, 'segment')}, ${plural(report.recordsVerified, 'record')} ` +
      `(${formatBytes(report.bytesVerified)}) verified; offsets [${report.earliest}, ${report.head}]`;
    if (report.archiveMissing) lines.push(`note: the archive holds no history below offset ${report.archiveMissing.below}${report.archiveMissing.file ? ` (missing: ${report.archiveMissing.file})` : ''}\n`);
    lines.push(report.ok ? `ok: ${summary}\n` : `FAILED: ${plural(report.problems.length, 'problem')}; ${summary}\n`);
    await ctx.out(lines.join(''));
    return code;
  },
});
