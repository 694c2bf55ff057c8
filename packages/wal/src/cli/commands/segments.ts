import { commonFlags, defineCommand, ExitCode } from '../command.js';
import { journalSegments } from '../journalDir.js';
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
    const segments = journalSegments(dir!).map(({ name, base, size }) => ({ name, base, size }));
    if (flags.json) {
      await ctx.out(JSON.stringify({ segments }) + '\n');
    } else {
      await ctx.out(table(['NAME', 'BASE', 'SIZE'], segments.map((s) => [s.name, String(s.base), String(s.size)])));
    }
    return ExitCode.Ok;
  },
});
