import { RecordTooLargeError } from '../../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../format/constants.js';
import { Journal } from '../../journal/journal.js';
import type { Durability } from '../../journal/options.js';
import { UsageError } from '../args.js';
import { commonFlags, defineCommand, ExitCode, type CliContext } from '../command.js';
import { describeCut, StdoutClosedError } from '../output.js';
import { LineSplitter } from '../stdinLines.js';

/**
 * Appends one record per line of standard input (the line without its
 * newline, `\n` or `\r\n`: CRLF line endings give the same records as LF;
 * any other byte, a leading BOM included, is data) and prints each record's
 * offset once it is as durable as asked. Lines that arrive together are
 * written as one batch: one write, one sync. A closed stdout stops the
 * offsets, not the appends.
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
    const stdin = ctx.stdin;
    if (!stdin) throw new UsageError('append reads records from standard input');
    // Ctrl-C or SIGTERM, from before the open (which may recover for a while):
    // the batch in hand is finished, the rest of stdin is not read, and the
    // journal is closed (its LOCK removed) instead of the process just ending
    const interrupt: Interrupt = { requested: false, tooLate: false };
    const removeInterrupt = ctx.onInterrupt(() => {
      if (interrupt.tooLate) return; // all of stdin was read: its last line is appended in a moment
      interrupt.requested = true;
      stopReading(stdin);
    });
    try {
      const journal = await Journal.open({
        dir: dir!,
        durability: durability as Durability,
        ...(flags['max-payload-bytes'] !== undefined ? { maxPayloadBytes: flags['max-payload-bytes'] } : {}),
      });
      // the open recovered the journal: a cut changed the log, say so (the recover command's words)
      for (const cut of journal.recovery?.cuts ?? []) ctx.err(`episteme-wal append: recovery ${describeCut(cut)}\n`);
      let lines: number;
      try {
        lines = await appendLines(journal, ctx, flags['max-payload-bytes'] ?? DEFAULT_MAX_PAYLOAD_BYTES, interrupt);
      } finally {
        await journal.close();
      }
      if (!interrupt.requested) return ExitCode.Ok;
      ctx.err(`episteme-wal append: interrupted ${lines > 0 ? `after line ${lines}: lines after it were not appended` : 'before line 1: no line was appended'}\n`);
      return ExitCode.Interrupted;
    } finally {
      removeInterrupt();
      stopReading(stdin);
    }
  },
});

/** Set by the Ctrl-C handler, read between batches. */
interface Interrupt {
  requested: boolean;
  /** All of stdin was read: nothing is left that an interrupt would spare. */
  tooLate: boolean;
}

/** Appends stdin's lines until its end or an interrupt; returns how many were appended. */
async function appendLines(journal: Journal, ctx: CliContext, maxPayloadBytes: number, interrupt: Interrupt): Promise<number> {
  const splitter = new LineSplitter(maxPayloadBytes);
  let lineNumber = 0;
  const appended = (): string => (lineNumber > 1 ? ` (lines 1-${lineNumber} were appended)` : lineNumber === 1 ? ' (line 1 was appended)' : ' (no line was appended)');
  const refuse = (size: number, complete: boolean): never => {
    // a line refused before its end has no known size: the message says "more than", `size` holds the bytes read of it
    const err = new RecordTooLargeError(size, maxPayloadBytes);
    const what = complete ? err.message : `payload of more than ${maxPayloadBytes} bytes exceeds maxPayloadBytes (${maxPayloadBytes})`;
    throw Object.assign(err, { message: `line ${lineNumber + 1}: ${what}; raise it with --max-payload-bytes${appended()}` });
  };
  // the command's work is stdin's lines, the offsets are for information: a
  // reader that leaves early (`| head -1`) ends the offsets, not the appends
  let stdoutOpen = true;
  const print = async (s: string): Promise<void> => {
    if (!stdoutOpen) return;
    try {
      await ctx.out(s);
    } catch (err) {
      if (!(err instanceof StdoutClosedError)) throw err;
      stdoutOpen = false;
    }
  };
  const flush = async (lines: Buffer[]): Promise<void> => {
    // a line over the limit is refused on its own: the lines before it (in
    // this batch too) are appended and their offsets printed first
    const tooLong = lines.findIndex((l) => l.length > maxPayloadBytes);
    const batch = tooLong < 0 ? lines : lines.slice(0, tooLong);
    if (batch.length > 0) {
      const first = lineNumber + 1;
      let offsets: number[];
      try {
        offsets = (await journal.appendBatch(batch)).map((a) => a.offset);
      } catch (err) {
        const where = batch.length === 1 ? `line ${first}` : `lines ${first}-${first + batch.length - 1}`;
        throw Object.assign(err as Error, { message: `${where}: ${(err as Error).message}${appended()}` });
      }
      lineNumber += batch.length;
      await print(offsets.join('\n') + '\n');
    }
    if (tooLong >= 0) refuse(lines[tooLong]!.length, true);
  };
  const chunks = ctx.stdin![Symbol.asyncIterator]();
  try {
    while (!interrupt.requested) {
      let next: IteratorResult<Uint8Array | string>;
      try {
        next = await chunks.next();
      } catch (err) {
        if (interrupt.requested) break; // the read that the interrupt's destroy() ended
        throw err;
      }
      if (next.done) {
        interrupt.tooLate = true;
        // a last line without a newline is still a line
        await flush(splitter.end());
        break;
      }
      const chunk = next.value;
      const { lines, openLineBytes } = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      await flush(lines);
      // an endless line (`/dev/zero`) is refused now, not when memory runs out
      if (openLineBytes !== undefined) refuse(openLineBytes, false);
    }
  } finally {
    await chunks.return?.();
  }
  return lineNumber;
}

/** A pipe that never closes (`tail -f |`) would keep the process alive after the command ended. */
function stopReading(stdin: AsyncIterable<unknown>): void {
  if ('destroy' in stdin && typeof stdin.destroy === 'function') stdin.destroy();
}
