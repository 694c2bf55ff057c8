import { UsageError } from '@episteme/wal/cli';
import { prepareAssertion, prepareRetraction } from '../../domain/prepare.js';
import { defineCommand, Exit } from '../command.js';
import { subjectBeforeWriting } from '../standingAssertions.js';

export const assertCommand = defineCommand({
  name: 'assert',
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
  name: 'retract',
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

/** Why an id cannot be used again: a second assertion with it would replace the first. */
export function idInUse(id: string, subject: string | undefined): string {
  if (subject === undefined) return `id ${JSON.stringify(id)} is already used by an earlier line of this input: use another id, or leave it out (a new one is made)`;
  return `id ${JSON.stringify(id)} is already used by a standing assertion about ${JSON.stringify(subject)}: retract it first, or leave the id out (a new one is made)`;
}

function parseConfidence(text: string): number {
  // decimal only: Number() would also take "0x1" or " 1 "
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new UsageError(`--confidence must be a number between 0 and 1, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}
