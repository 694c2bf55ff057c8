import { isStoreError, validateStreamName, type RecordedEvent } from '@episteme/store';
import { StreamsView } from '@episteme/store/internals';
import { table, UsageError } from '@episteme/wal/cli';
import { defineCommand, Exit } from '../command.js';
import type { CommandContext } from '../context.js';

/**
 * The event store's streams, read the way a reader reads the log: through
 * Journal.openForRead (no writer lock, no file written) and the store's
 * index checkpoint plus the records after it, so both commands work while a
 * writer runs. What they show is the log as of their start.
 */
async function withStreams<T>(ctx: CommandContext, fn: (view: StreamsView) => T | Promise<T>): Promise<T> {
  const app = await ctx.open('read');
  try {
    return await fn(StreamsView.open(app.journal, { dir: app.journal.dir }));
  } finally {
    await app.close();
  }
}

export const streamsListCommand = defineCommand({
  name: 'streams list',
  summary: 'every stream of the event store: version, deleted, last global position (works while a writer runs)',
  positionals: [],
  flags: { prefix: { type: 'string', value: 'p', description: 'only the streams whose name starts with p (a category: assertion-)' } },
  async run({ flags }, ctx) {
    // a prefix that no stream name can start with is a mistake, not an empty list
    if (flags.prefix !== undefined) checkPrefix(flags.prefix);
    const rows = await withStreams(ctx, (view) => view.list(flags.prefix));
    if (ctx.json) await ctx.out(JSON.stringify(rows) + '\n');
    else if (rows.length === 0) await ctx.out(flags.prefix === undefined ? 'no streams\n' : `no streams start with ${JSON.stringify(flags.prefix)}\n`);
    else {
      await ctx.out(
        table(
          ['stream', 'version', 'deleted', 'last global position'],
          rows.map((r) => [r.stream, String(r.version), r.deleted ? 'yes' : 'no', r.lastGlobalPosition === null ? '-' : String(r.lastGlobalPosition)]),
        ),
      );
    }
    return Exit.Ok;
  },
});

function checkPrefix(prefix: string): void {
  try {
    validateStreamName(prefix);
  } catch (err) {
    if (!isStoreError(err)) throw err;
    throw new UsageError(`--prefix ${JSON.stringify(prefix)} cannot begin a stream name: only letters, digits and - _ . : @ / + = ~ # are allowed, starting with a letter or digit`);
  }
}

const PREVIEW = 100;

/** JSON on one line, cut for a table cell; control characters cannot reach the terminal (JSON escapes them). */
function preview(value: unknown): string {
  const text = value instanceof Uint8Array ? `bytes(base64) ${Buffer.from(value).toString('base64')}` : (JSON.stringify(value) ?? 'undefined');
  return text.length > PREVIEW ? text.slice(0, PREVIEW) + '...' : text;
}

/** An event for --json: bytes data as base64 (JSON has no bytes). */
function eventJson(e: RecordedEvent): Record<string, unknown> {
  const { streamPosition, globalPosition, type, recordedAt, id, data, metadata } = e;
  return { streamPosition, globalPosition, type, recordedAt, id, ...(data instanceof Uint8Array ? { dataBase64: Buffer.from(data).toString('base64') } : { data }), metadata };
}

export const streamsShowCommand = defineCommand({
  name: 'streams show',
  summary: "a stream's events: position, global position, type, time, id, data (works while a writer runs)",
  positionals: [{ name: 'stream', description: 'the stream name (an assertion\'s: assertion-<id>)' }],
  flags: {},
  async run({ positionals: [stream] }, ctx) {
    // an invalid name is STORE_INVALID_STREAM_NAME, a stream never written STORE_STREAM_NOT_FOUND: both exit 2
    const { summary, events } = await withStreams(ctx, (view) => ({ summary: view.summaryOf(stream!), events: [...view.events(stream!)] }));
    if (ctx.json) {
      await ctx.out(JSON.stringify({ ...summary, events: events.map(eventJson) }) + '\n');
      return Exit.Ok;
    }
    if (summary.deleted) {
      await ctx.out(`stream ${summary.stream}: deleted (its events stay in the log until cleanup, hidden from reads)\n`);
      return Exit.Ok;
    }
    await ctx.out(`stream ${summary.stream}: version ${summary.version}, last global position ${summary.lastGlobalPosition}\n`);
    await ctx.out(
      table(
        ['position', 'global position', 'type', 'time', 'id', 'data'],
        events.map((e) => [String(e.streamPosition), String(e.globalPosition), e.type, e.recordedAt.toISOString(), e.id, preview(e.data)]),
      ),
    );
    return Exit.Ok;
  },
});
