import { commonFlags, defineCommand, ExitCode } from '../command.js';
import { holeAfter, journalSegments } from '../journalDir.js';
import { table } from '../output.js';

/** Lists the segment files without reading them: instant on any log size. */
export const segmentsCommand = defineCommand({
  name: 'segments',
  summary: 'list the segment files: name, base offset, size in bytes',
  positionals: [{ name: 'dir', description: 'journal directory' }],
  flags: {
    json: { ...commonFlags.json, description: 'print {"segments":[{"name","base","size"}]}' },
  },
  async run({ positionals: [dir], flags }, ctx) {
    const files = journalSegments(dir!);
    const segments = files.map(({ name, base, size }) => ({ name, base, size }));
    if (flags.json) {
      await ctx.out(JSON.stringify({ segments }) + '\n');
    } else {
      await ctx.out(table(['NAME', 'BASE', 'SIZE'], segments.map((s) => [s.name, String(s.base), String(s.size)])));
      // sizes and bases say it without reading a byte: a segment that does not end where the next begins
      for (let i = 0; i + 1 < files.length; i++) {
        const hole = holeAfter(files, i);
        if (hole) ctx.err(`note: ${hole.describe}\n`);
      }
    }
    return ExitCode.Ok;
  },
});
