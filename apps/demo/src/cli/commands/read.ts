import { table } from '@episteme/wal/cli';

/** A query cannot be answered because its projection failed over the log: a data problem (exit 1). */
class ProjectionUnavailableError extends Error {
  readonly code = 'APP_PROJECTION_FAILED';
  constructor(name: string, detail: string) {
    super(`projection "${name}" cannot answer: ${detail}`);
  }
}
import { beliefsAbout, type BeliefsState } from '../../projections/beliefs.js';
import type { StatsState } from '../../projections/stats.js';
import { defineCommand, Exit } from '../command.js';
import type { CommandContext, ReaderApp } from '../context.js';
import { openNatsReader } from '../natsApp.js';

/**
 * Opens read-only, resumes the projections from their snapshots and catches
 * up in memory; with --nats, folds the relayed stream instead of the journal.
 */
async function withProjection<T>(ctx: CommandContext, name: string, fn: (app: Pick<ReaderApp, 'engine'>) => T): Promise<T> {
  const app = ctx.nats ? await openNatsReader(ctx.nats, (m) => ctx.err(`warning: ${m}\n`)) : await ctx.open('read');
  try {
    const reports = await app.engine.start({ follow: false });
    // the projection asked, if it cannot apply the log, gives no answer rather than a stale one;
    // another one's failure is not this command's (the engine started it, and warned if it must)
    const failed = reports.find((r) => r.name === name && r.mode === 'failed');
    if (failed) throw new ProjectionUnavailableError(failed.name, failed.detail ?? 'failed to start');
    return fn(app);
  } finally {
    await app.close();
  }
}

export const beliefsCommand = defineCommand({
  name: 'beliefs',
  summary: 'the standing assertions about a subject, and the most confident one per predicate',
  positionals: [{ name: 'subject', description: 'the subject' }],
  flags: {},
  async run({ positionals: [subject] }, ctx) {
    const result = await withProjection(ctx, 'beliefs', (app) => beliefsAbout(app.engine.query<BeliefsState>('beliefs').state, subject!));
    if (ctx.json) {
      await ctx.out(JSON.stringify(result) + '\n');
    } else if (result.assertions.length === 0) {
      await ctx.out(`no standing assertions about ${JSON.stringify(subject)}\n`);
    } else {
      await ctx.out(`${subject}: ${result.assertions.length} standing assertion(s); best per predicate:\n`);
      await ctx.out(
        table(
          ['predicate', 'object', 'confidence', 'source', 'id', 'global position'],
          Object.values(result.best).map((b) => [b.predicate, b.object, b.confidence.toFixed(2), b.source, b.id, String(b.globalPosition)]),
        ),
      );
    }
    return Exit.Ok;
  },
});

export const statsCommand = defineCommand({
  name: 'stats',
  summary: 'counts of assertions per predicate and per source',
  positionals: [],
  flags: {},
  async run(_args, ctx) {
    const { state, checkpoint } = await withProjection(ctx, 'stats', (app) => app.engine.query<StatsState>('stats'));
    if (ctx.json) {
      await ctx.out(JSON.stringify({ ...state, checkpoint }) + '\n');
      return Exit.Ok;
    }
    const foreign = state.notAssertions > 0 ? `, ${state.notAssertions} record${state.notAssertions === 1 ? '' : 's'} that are not assertion events (skipped)` : '';
    await ctx.out(`${state.assertions} assertions, ${state.retractions} retractions${foreign} (checkpoint ${checkpoint})\n\n`);
    const top = (rec: Record<string, number>): string[][] =>
      Object.entries(rec)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, v]) => [k, String(v)]);
    await ctx.out(table(['predicate', 'count'], top(state.byPredicate)) + '\n');
    await ctx.out(table(['source', 'count'], top(state.bySource)));
    return Exit.Ok;
  },
});
