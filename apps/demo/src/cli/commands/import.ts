import { createReadStream, statSync } from 'node:fs';
import { ProgressLine, UsageError, formatBytes } from '@episteme/wal/cli';
import { codeOf } from '@episteme/wal/internals';
import { ImportBatch } from '../../import/importBatch.js';
import { REFUSED, type PreparedRun } from '../../import/preparedBatch.js';
import { defaultPrepareOptions, PreparePool, WORKER_FROM_BYTES } from '../../import/preparePool.js';
import { RunQueue } from '../../import/runQueue.js';
import { defineCommand, Exit } from '../command.js';
import { inputLineBatches, type InputLine } from '../inputLines.js';
import { idGivenEarlier } from './write.js';

/** Lines appended at once: each is a commit of its own stream, and the store's appendEncoded writes them together (one write, one sync). */
const IMPORT_BATCH = 1000;
/** Invalid line numbers listed in import's --json summary (all of them are reported on stderr). */
const MAX_LISTED = 1000;
/**
 * Runs of input being prepared while the main thread appends, per worker:
 * enough to keep every worker busy, few enough not to read far ahead of
 * what is appended (a failed append stops the import there).
 */
const AHEAD_PER_WORKER = 3;
/**
 * Runs prepared ahead with no worker: the thread prepares the next lines
 * while a batch's sync is in flight (about two batches' worth of input).
 */
const AHEAD_HERE = 3;
/** Bytes read at once from a file (a run's size): fewer, larger reads than the stream's 64 KiB. */
const READ_CHUNK = 128 * 1024;

const NOT_UTF8 = -1;
const BLANK = -2;
const TOO_LONG = -3;

/**
 * The lines of one chunk of input, their texts being prepared (in a worker
 * or here): per line (numbered from `firstLine`), its size and where its
 * text is among those prepared (or NOT_UTF8, BLANK, TOO_LONG). Columns,
 * not an object per line.
 */
interface Run {
  firstLine: number;
  sizes: Int32Array;
  texts: Int32Array;
  prepared: Promise<PreparedRun>;
}

export const importCommand = defineCommand({
  name: 'import',
  summary: 'append assertions from an NDJSON file (- for standard input) in batches; invalid lines are reported and skipped',
  positionals: [{ name: 'file.ndjson', description: 'one assertion object per line (id and assertedAt optional); - reads standard input' }],
  flags: {
    workers: {
      type: 'integer',
      value: 'n',
      description: `threads that validate lines beside the one that appends (by default, measured: on two cores one for a file of ${WORKER_FROM_BYTES / 1e6} MB or more or after 200,000 lines of a pipe, where it pays for its start, none otherwise; one on more cores, none on one)`,
      min: 0,
      max: 16,
    },
  },
  async run({ positionals: [file], flags }, ctx) {
    const fromStdin = file === '-';
    // no longer line can be one assertion: its event would not fit a record (the journal's payload limit)
    const maxLineBytes = ctx.config.maxPayloadBytes;
    // the file is checked before the journal is opened: a wrong path changes nothing
    let size: number | undefined;
    if (!fromStdin) {
      try {
        const st = statSync(file!);
        if (!st.isFile()) throw new UsageError(`${file} is not a regular file (- reads standard input)`);
        size = st.size;
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`cannot read ${file} (${codeOf(err) ?? String(err)})`);
      }
    }
    const name = fromStdin ? 'stdin' : file!;
    // group commit on whatever the config says: one write and one sync for a batch's commits, as import's batches always had
    const app = await ctx.open('write', { groupCommit: true });
    const started = performance.now();
    // no progress line for a pipe: its size is not known (the summary still says how much)
    const progress = size !== undefined && ctx.stderrIsTTY && !ctx.json ? new ProgressLine((s) => ctx.err(s), 'import', () => performance.now()) : undefined;
    let lineNo = 0;
    /** The last line handled: every line up to it is appended or reported (an interrupted import resumes after it). */
    let linesDone = 0;
    let interrupted = false;
    let appended = 0;
    let invalid = 0;
    /** The numbers of the first MAX_LISTED invalid lines, for --json (the text mode prints each on stderr). */
    const invalidLines: number[] = [];
    /**
     * Why lines were skipped, held until the lines before them are settled
     * (a batch's appends can refuse a line too), then reported in line order.
     */
    let notes: [line: number, why: string][] = [];
    const skip = (line: number, why: string): void => {
      invalid++;
      notes.push([line, why]);
    };
    const report = (): void => {
      if (notes.length === 0) return;
      progress?.clear();
      for (const [line, why] of notes.sort((a, b) => a[0] - b[0])) {
        if (invalidLines.length < MAX_LISTED) invalidLines.push(line);
        ctx.err(`line ${line}: ${why}\n`);
      }
      notes = [];
    };
    let bytes = 0;
    const producer = `import:${name}`;
    /** The batch being gathered: its lines' commits and numbers. */
    const batch = new ImportBatch(app.store, app.service, producer);
    /** Ids given in this input, so far: a second line with one of them is refused (the first one has the id). */
    const given = new Set<string>();
    /**
     * Appends the batch, each line a commit to its new stream ('no_stream'):
     * a line whose id stands is refused by the store, and reported; any other
     * failure stops the import.
     */
    const flush = async (): Promise<void> => {
      const { appended: n, refused, failure } = await batch.append();
      appended += n;
      for (const [line, why] of refused) skip(line, why);
      report();
      if (failure) throw failure.reason;
    };
    /** The lines of a run in input order: reported, appended in batches. */
    const take = async (run: Run): Promise<void> => {
      const prepared = await run.prepared;
      const { commitOf, refused, givenIds } = prepared;
      // both lists are in line order: walked along with the lines
      let nextRefused = 0;
      let nextGiven = 0;
      const { sizes, texts, firstLine } = run;
      for (let i = 0; i < sizes.length; i++) {
        const lineNo = firstLine + i;
        bytes += sizes[i]!;
        linesDone = lineNo;
        const t = texts[i]!;
        if (t === BLANK) continue;
        if (t === NOT_UTF8) {
          skip(lineNo, 'not UTF-8 (bytes that are not UTF-8 text; re-encode the file as UTF-8)');
          continue;
        }
        if (t === TOO_LONG) {
          skip(lineNo, `longer than ${formatBytes(maxLineBytes)}: no assertion is that long (its event would not fit a record); not read whole`);
          continue;
        }
        if (commitOf[t] === REFUSED) {
          skip(lineNo, refused[nextRefused++]![1]);
          continue;
        }
        if (nextGiven < givenIds.length && givenIds[nextGiven]![0] === t) {
          const id = givenIds[nextGiven++]![1];
          if (given.has(id)) {
            skip(lineNo, idGivenEarlier(id));
            continue;
          }
          given.add(id);
        }
        batch.add(prepared, t, lineNo);
        if (batch.size >= IMPORT_BATCH) await flush();
      }
      // a pipe that pauses (`tail -f | episteme import -`): what it sent is appended now, not when 1000 lines have come
      if (fromStdin && queue.waiting <= 1) await flush();
      else if (batch.size === 0) report();
      progress?.update({ segment: name, bytesDone: bytes, bytesTotal: size! });
    };
    /** A chunk's lines as a run: its texts go to be prepared at once, the rest is decided here. */
    const toRun = (lines: InputLine[]): Run => {
      const sizes = new Int32Array(lines.length);
      const where = new Int32Array(lines.length);
      const texts: string[] = [];
      const firstLine = lineNo + 1;
      for (let i = 0; i < lines.length; i++) {
        const read = lines[i]!;
        lineNo++;
        sizes[i] = read.bytes;
        if (!('text' in read)) {
          where[i] = 'notUtf8' in read ? NOT_UTF8 : TOO_LONG;
          continue;
        }
        const line = lineNo === 1 && read.text.charCodeAt(0) === 0xfeff ? read.text.slice(1) : read.text;
        if (line.trim() === '') {
          where[i] = BLANK;
          continue;
        }
        where[i] = texts.length;
        texts.push(line);
      }
      return { firstLine, sizes, texts: where, prepared: texts.length > 0 ? pool.prepare(texts) : Promise.resolve(EMPTY_RUN) };
    };
    // workers asked for start after 2,000 lines, as they always did; by default, by the input's size (a worker pays for its start only in large imports)
    const pool = new PreparePool(producer, app.store.maxPayloadBytes, flags.workers !== undefined ? { workers: flags.workers, startAfterLines: 2000 } : defaultPrepareOptions(size));
    const ahead = pool.workers === 0 ? AHEAD_HERE : AHEAD_PER_WORKER * pool.workers;
    const input = fromStdin ? ctx.stdin : createReadStream(file!, { highWaterMark: READ_CHUNK });
    // stops reading, after an error too: a pipe that never closes (`tail -f | episteme import -`) would keep the process alive
    const stopReading = (): void => {
      if ('destroy' in input && typeof input.destroy === 'function') input.destroy();
    };
    const queue = new RunQueue<Run>(ahead, stopReading);
    const taking = queue.drain(take);
    taking.catch(() => undefined); // awaited below, on every path
    // Ctrl-C: the run being taken is finished and appended, the rest is not read; the summary says where to resume
    let allRead = false;
    const removeInterrupt = ctx.onInterrupt(() => {
      if (allRead) return; // only the last batch is left: it is appended in a moment, and nothing is left to resume
      interrupted = true;
      queue.abort();
      stopReading();
    });
    try {
      try {
        for await (const lines of inputLineBatches(input as AsyncIterable<Uint8Array | string>, maxLineBytes)) {
          if (!(await queue.give(toRun(lines)))) break;
        }
        allRead = !interrupted && !queue.failed;
      } catch (err) {
        // a read that failed because an append failed and stopped it: that append's error is the one to report
        if (!queue.failed && !interrupted) {
          queue.abort();
          throw err;
        }
      } finally {
        queue.end();
      }
      await taking;
      await flush();
    } finally {
      removeInterrupt();
      stopReading();
      await taking.catch(() => undefined); // the journal is never closed under an append
      await pool.close();
      progress?.clear();
      await app.close();
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = { records: appended, invalid, lines: linesDone, bytes, seconds: round(seconds), mbPerSecond: round(bytes / 1e6 / Math.max(seconds, 1e-6)) };
    const stopped = interrupted ? { interrupted: true, resumeFromLine: linesDone + 1 } : {};
    await ctx.out(
      ctx.json
        ? JSON.stringify({ ...summary, invalidLines, ...stopped }) + '\n'
        : `imported ${appended} assertion${appended === 1 ? '' : 's'} from ${linesDone} line${linesDone === 1 ? '' : 's'} (${formatBytes(bytes)}) in ${summary.seconds} s, ${summary.mbPerSecond} MB/s; ${invalid} invalid line${invalid === 1 ? '' : 's'} skipped` +
            (interrupted ? `; interrupted before line ${linesDone + 1}: import again from there\n` : '\n'),
    );
    if (interrupted) return Exit.Interrupted;
    return invalid > 0 ? Exit.Problem : Exit.Ok;
  },
});

/** The run of a chunk with no line to prepare (blank, too long, not UTF-8). */
const EMPTY_RUN: PreparedRun = Object.freeze({
  commits: { bytes: new Uint8Array(0), ends: new Int32Array(0), streams: [], expected: new Float64Array(0) },
  commitOf: new Int32Array(0),
  refused: [],
  givenIds: [],
  again: [],
});

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
