import { createReadStream, statSync } from 'node:fs';
import { ProgressLine, UsageError, formatBytes } from '@episteme/wal/cli';
import { ValidationFailedError } from '../../domain/events.js';
import { prepareAssertion, prepareRetraction, type PreparedEvent } from '../../domain/prepare.js';
import { defineCommand, Exit } from '../command.js';
import { inputLineBatches } from '../inputLines.js';
import { IdCheckError, StandingAssertions, subjectBeforeWriting } from '../standingAssertions.js';

const IMPORT_BATCH = 1000;
/** Invalid line numbers listed in import's --json summary (all of them are reported on stderr). */
const MAX_LISTED = 1000;

export const assertCommand = defineCommand({
  path: ['assert'],
  summary: 'append a validated assertion; prints its offset and content address',
  positionals: [],
  flags: {
    subject: { type: 'string', value: 'S', description: 'what the assertion is about (required)' },
    predicate: { type: 'string', value: 'P', description: 'the property asserted (required)' },
    object: { type: 'string', value: 'O', description: 'the value asserted (required)' },
    confidence: { type: 'string', value: '0..1', description: 'confidence between 0 and 1 (default 1)' },
    source: { type: 'string', value: 'SRC', description: 'who says so (default "cli")' },
    id: { type: 'string', value: 'ID', description: 'assertion id (default: a new UUID)' },
  },
  async run({ flags }, ctx) {
    const input: Record<string, unknown> = {
      subject: flags.subject,
      predicate: flags.predicate,
      object: flags.object,
      confidence: flags.confidence === undefined ? 1 : parseConfidence(flags.confidence),
      source: flags.source ?? 'cli',
      ...(flags.id !== undefined ? { id: flags.id } : {}),
    };
    // validate before opening: invalid input must not even create the data directory
    prepareAssertion(input);
    if (flags.id !== undefined) {
      const standing = await subjectBeforeWriting(ctx.config, flags.id);
      if (standing) throw new UsageError(idInUse(flags.id, standing));
    }
    const app = await ctx.open('write');
    try {
      const r = await app.service.assert(input, 'cli');
      await ctx.out(ctx.json ? JSON.stringify(r) + '\n' : `offset ${r.offset}\ncontent address ${r.contentAddress}\nid ${r.id}\n`);
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

export const retractCommand = defineCommand({
  path: ['retract'],
  summary: 'append the retraction of an assertion',
  positionals: [{ name: 'id', description: 'the assertion id' }],
  flags: { reason: { type: 'string', value: 'R', description: 'why it is withdrawn (required)' } },
  async run({ positionals: [id], flags }, ctx) {
    const input = { assertionId: id, reason: flags.reason };
    prepareRetraction(input);
    // a retraction of nothing would be appended for good and change nothing: a typo'd id is refused
    if ((await subjectBeforeWriting(ctx.config, id!)) === undefined) {
      throw new UsageError(`no standing assertion has id ${JSON.stringify(id)} (never made, or already retracted); \`episteme beliefs <subject>\` lists the ids`);
    }
    const app = await ctx.open('write');
    try {
      const r = await app.service.retract(input, 'cli');
      await ctx.out(ctx.json ? JSON.stringify(r) + '\n' : `offset ${r.offset}\ncontent address ${r.contentAddress}\n`);
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

export const importCommand = defineCommand({
  path: ['import'],
  summary: 'append assertions from an NDJSON file (- for standard input) in batches; invalid lines are reported and skipped',
  positionals: [{ name: 'file.ndjson', description: 'one assertion object per line (id and assertedAt optional); - reads standard input' }],
  flags: {},
  async run({ positionals: [file] }, ctx) {
    const fromStdin = file === '-';
    // the file is checked before the journal is opened: a wrong path changes nothing
    let size: number | undefined;
    if (!fromStdin) {
      try {
        const st = statSync(file!);
        if (!st.isFile()) throw new UsageError(`${file} is not a regular file (- reads standard input)`);
        size = st.size;
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`cannot read ${file} (${(err as { code?: string }).code ?? String(err)})`);
      }
    }
    const name = fromStdin ? 'stdin' : file!;
    const app = await ctx.open('write');
    const started = performance.now();
    // no progress line for a pipe: its size is not known (the summary still says how much)
    const progress = size !== undefined && ctx.stderrIsTTY && !ctx.json ? new ProgressLine((s) => ctx.err(s), 'import', () => performance.now()) : undefined;
    let lineNo = 0;
    let appended = 0;
    let invalid = 0;
    /** The numbers of the first MAX_LISTED invalid lines, for --json (the text mode prints each on stderr). */
    const invalidLines: number[] = [];
    const skip = (why: string): void => {
      invalid++;
      if (invalidLines.length < MAX_LISTED) invalidLines.push(lineNo);
      progress?.clear();
      ctx.err(`line ${lineNo}: ${why}\n`);
    };
    let bytes = 0;
    let batch: PreparedEvent[] = [];
    const standing = new StandingAssertions(app.journal);
    /** Ids given in this input, so far: a second line with one of them would replace the first. */
    const given = new Set<string>();
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await app.service.appendPrepared(batch);
      appended += batch.length;
      batch = [];
    };
    const input = fromStdin ? ctx.stdin : createReadStream(file!);
    try {
      for await (const lines of inputLineBatches(input as AsyncIterable<Uint8Array | string>)) for (const read of lines) {
        lineNo++;
        bytes += read.bytes;
        if ('notUtf8' in read) {
          skip('not UTF-8 (bytes that are not UTF-8 text; re-encode the file as UTF-8)');
          continue;
        }
        const line = read.text;
        if (line.trim() === '') continue;
        let prepared = prepareLine(lineNo === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, `import:${name}`);
        if (typeof prepared !== 'string' && prepared.givenId) {
          // only lines that name their id can collide (a generated one is a new UUID)
          if (given.has(prepared.id)) prepared = idInUse(prepared.id, undefined);
          else {
            const subject = await standing.subjectOf(prepared.id).catch((err: unknown) => {
              if (err instanceof IdCheckError) return err; // this line is reported and skipped, as invalid ones are
              throw err;
            });
            if (subject instanceof IdCheckError) prepared = `cannot check whether id ${JSON.stringify(prepared.id)} is in use: projection "beliefs" failed (${subject.detail})`;
            else if (subject) prepared = idInUse(prepared.id, subject);
            else given.add(prepared.id);
          }
        }
        if (typeof prepared === 'string') {
          skip(prepared);
          continue;
        }
        batch.push(prepared);
        if (batch.length >= IMPORT_BATCH) await flush();
        progress?.update({ segment: name, bytesDone: bytes, bytesTotal: size! });
      }
      await flush();
    } finally {
      // after an error too: stop reading, or a pipe that never closes (`tail -f | episteme import -`) keeps the process alive
      if ('destroy' in input && typeof input.destroy === 'function') input.destroy();
      progress?.clear();
      await app.close();
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = { records: appended, invalid, lines: lineNo, bytes, seconds: round(seconds), mbPerSecond: round(bytes / 1e6 / Math.max(seconds, 1e-6)) };
    await ctx.out(
      ctx.json
        ? JSON.stringify({ ...summary, invalidLines }) + '\n'
        : `imported ${appended} assertion${appended === 1 ? '' : 's'} from ${lineNo} line${lineNo === 1 ? '' : 's'} (${formatBytes(bytes)}) in ${summary.seconds} s, ${summary.mbPerSecond} MB/s; ${invalid} invalid line${invalid === 1 ? '' : 's'} skipped\n`,
    );
    return invalid > 0 ? Exit.Problem : Exit.Ok;
  },
});

/** Why an id cannot be used again: a second assertion with it would replace the first. */
function idInUse(id: string, subject: string | undefined): string {
  if (subject === undefined) return `id ${JSON.stringify(id)} is already used by an earlier line of this input: use another id, or leave it out (a new one is made)`;
  return `id ${JSON.stringify(id)} is already used by a standing assertion about ${JSON.stringify(subject)}: retract it first, or leave the id out (a new one is made)`;
}

/** One NDJSON line as an event ready to append (and whether the line named its id), or why it is not one. */
function prepareLine(line: string, producer: string): (PreparedEvent & { givenId: boolean }) | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'not a JSON object (one assertion per line: {"subject", "predicate", "object", "confidence", "source"[, "id"]})';
  }
  try {
    return { ...prepareAssertion(value as Record<string, unknown>, producer), givenId: (value as { id?: unknown }).id != null };
  } catch (err) {
    if (err instanceof ValidationFailedError) return err.message;
    throw err;
  }
}

function parseConfidence(text: string): number {
  // decimal only: Number() would also take "0x1" or " 1 "
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new UsageError(`--confidence must be a number between 0 and 1, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
