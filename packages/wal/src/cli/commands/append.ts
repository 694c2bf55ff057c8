import { Journal } from '../../journal/journal.js';
import type { Durability } from '../../journal/options.js';
import { UsageError } from '../args.js';
import { commonFlags, defineCommand, ExitCode, type CliContext } from '../command.js';

/**
 * Appends one record per line of standard input (the line without its
 * newline) and prints each record's offset once it is as durable as asked.
 * Lines that arrive together are written as one batch: one write, one sync.
 */
export const appendCommand = defineCommand({
  name: 'append',
  summary: 'append one record per stdin line and print each offset',
  positionals: [{ name: 'dir', description: 'journal directory (created when absent; takes the writer lock)' }],
  flags: {
    durability: { type: 'string', value: 'immediate|none', description: 'sync each batch before printing its offsets (immediate, the default) or not (none)' },
    'max-payload-bytes': commonFlags.maxPayloadBytes,
  },
  async run({ positionals: [dir], flags }, ctx) {
    const durability = flags.durability ?? 'immediate';
    if (durability !== 'immediate' && durability !== 'none') {
      throw new UsageError(`--durability must be immediate or none, got ${JSON.stringify(durability)}`);
    }
    if (!ctx.stdin) throw new UsageError('append reads records from standard input');
    const journal = await Journal.open({
      dir: dir!,
      durability: durability as Durability,
      ...(flags['max-payload-bytes'] !== undefined ? { maxPayloadBytes: flags['max-payload-bytes'] } : {}),
    });
    try {
      await appendLines(journal, ctx);
    } finally {
      await journal.close();
    }
    return ExitCode.Ok;
  },
});

async function appendLines(journal: Journal, ctx: CliContext): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let lineNumber = 0;
  const flush = async (lines: Buffer[]): Promise<void> => {
    if (lines.length === 0) return;
    const first = lineNumber + 1;
    lineNumber += lines.length;
    let offsets: number[];
    try {
      offsets = await journal.appendBatch(lines);
    } catch (err) {
      const where = lines.length === 1 ? `line ${first}` : `lines ${first}-${lineNumber}`;
      throw Object.assign(err as Error, { message: `${where}: ${(err as Error).message} (earlier lines were appended)` });
    }
    await ctx.out(offsets.join('\n') + '\n');
  };
  for await (const chunk of ctx.stdin!) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = pending.indexOf(10, start); nl !== -1; nl = pending.indexOf(10, start)) {
      // copies: the journal reads payloads when it writes the batch
      lines.push(Buffer.from(pending.subarray(start, nl)));
      start = nl + 1;
    }
    pending = pending.subarray(start);
    await flush(lines);
  }
  // a last line without a newline is still a line
  if (pending.length > 0) await flush([Buffer.from(pending)]);
}
