import { existsSync } from 'node:fs';
import { UsageError } from '@episteme/wal/cli';
import type { Appended } from '../../app/assertionService.js';
import { journalOptionsOf } from '../../app/container.js';
import { AssertionNotFoundError } from '../../domain/assertionErrors.js';
import { streamOf } from '../../domain/events.js';
import { prepareAssertion, prepareRetraction } from '../../domain/prepare.js';
import { defineCommand, Exit } from '../command.js';
import type { CommandContext } from '../context.js';
import { openNatsWriter } from '../natsApp.js';

/** What `assert` and `retract` print: the event's place (`--json`: the same as one object). */
async function printAppended(ctx: CommandContext, r: Appended): Promise<void> {
  await ctx.out(ctx.json ? JSON.stringify(r) + '\n' : `id ${r.id}\nstream ${r.stream}\nversion ${r.version}\nglobal position ${r.globalPosition}\n`);
}

export const assertCommand = defineCommand({
  name: 'assert',
  summary: 'append a validated assertion to its own stream; prints its id, stream, version and global position',
  positionals: [],
  flags: {
    subject: { type: 'string', value: 'S', description: 'what the assertion is about (required)' },
    predicate: { type: 'string', value: 'P', description: 'the property asserted (required)' },
    object: { type: 'string', value: 'O', description: 'the value asserted (required)' },
    confidence: { type: 'string', value: '0..1', description: 'confidence between 0 and 1 (default 1)' },
    source: { type: 'string', value: 'SRC', description: 'who says so (default "cli")' },
    id: { type: 'string', value: 'ID', description: 'assertion id: letters, digits and - _ . : @ / + = ~ # (default: a new UUID); refused while an assertion with it stands' },
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
    const app = ctx.nats ? await openNatsWriter(ctx.nats) : await ctx.open('write');
    try {
      // an id in use is refused by the store's expected version ('no_stream'), in the writer: no check beforehand can race it
      await printAppended(ctx, await app.service.assert(input, 'cli'));
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

export const retractCommand = defineCommand({
  name: 'retract',
  summary: 'append the retraction of a standing assertion to its stream',
  positionals: [{ name: 'id', description: 'the assertion id' }],
  flags: { reason: { type: 'string', value: 'R', description: 'why it is withdrawn (required)' } },
  async run({ positionals: [id], flags }, ctx) {
    const input = { assertionId: id, reason: flags.reason };
    prepareRetraction(input);
    // no journal, no assertion: refused without creating the data directory
    if (!ctx.nats && !existsSync(journalOptionsOf(ctx.config).dir)) throw new AssertionNotFoundError(id!, streamOf(id!));
    const app = ctx.nats ? await openNatsWriter(ctx.nats) : await ctx.open('write');
    try {
      // the writer reads the assertion's stream and appends at the version it read: a retraction that came first makes it fail
      await printAppended(ctx, await app.service.retract(input, 'cli'));
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

/** Why an import line's id cannot be used: an earlier line of the same input has it. */
export function idGivenEarlier(id: string): string {
  return `id ${JSON.stringify(id)} is already used by an earlier line of this input: use another id, or leave it out (a new one is made)`;
}

function parseConfidence(text: string): number {
  // decimal only: Number() would also take "0x1" or " 1 "
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new UsageError(`--confidence must be a number between 0 and 1, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}
