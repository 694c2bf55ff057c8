import { CorruptCursorError, type ConsumerRegistry } from '@episteme/consumers';
import { consumerNameOf, CorruptSnapshotError, FileSnapshotStore } from '@episteme/projections';
import { ProgressLine, UsageError, parseNonNegativeInteger, table } from '@episteme/wal/cli';
import { PROJECTIONS } from '../../app/container.js';
import { defineCommand, Exit } from '../command.js';

export const consumersListCommand = defineCommand({
  name: 'consumers list',
  summary: 'every consumer: cursor, head, lag, last commit, state',
  positionals: [],
  flags: {},
  async run(_args, ctx) {
    const app = await ctx.open('read');
    try {
      // a cursor file that cannot be read has no cursor, lag or last commit: say "unknown", not -1, 0 and ""
      const list = app.registry.list().map((c) => (c.cursor < 0 ? { ...c, cursor: null, lagBytes: null, lagRecords: null, lastCommitAt: null } : c));
      if (ctx.json) await ctx.out(JSON.stringify(list) + '\n');
      else if (list.length === 0) await ctx.out('no consumers registered\n');
      else {
        await ctx.out(
          table(
            ['name', 'cursor', 'head', 'lag bytes', 'lag records', 'last commit', 'state'],
            list.map((c) => [c.name, String(c.cursor ?? '?'), String(c.head), String(c.lagBytes ?? '?'), String(c.lagRecords ?? '?'), c.lastCommitAt ?? '?', c.state]),
          ),
        );
        // errors under the table: a long message would stretch its last column
        for (const c of list) if (c.error) await ctx.out(`${c.name}: ${projectionCursorDamage(c) ?? c.error}\n`);
      }
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

export const consumersResetCommand = defineCommand({
  name: 'consumers reset',
  summary: 'move a consumer\'s cursor to earliest, latest or an offset (a record boundary)',
  positionals: [{ name: 'name', description: 'consumer name' }],
  flags: { to: { type: 'string', value: 'earliest|latest|offset', description: 'where to (required)' } },
  async run({ positionals: [name], flags }, ctx) {
    if (flags.to === undefined) throw new UsageError('--to is required: earliest, latest or an offset');
    const to = flags.to === 'earliest' || flags.to === 'latest' ? flags.to : parseNonNegativeInteger(flags.to, '--to');
    const app = await ctx.open('read', { repairs: name });
    try {
      const damage = damageOf(app.registry, name!);
      const state = stillSaying(damage, ctx, () => app.registry.reset(name!, to));
      await ctx.out(ctx.json ? JSON.stringify(state) + '\n' : `${name}: cursor ${state.cursor}\n`);
      if (damage) ctx.err(`note: the cursor file ${damage.path} was damaged (${damage.why}); written anew\n`);
      noteProjectionCursor(name!, ctx);
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

export const consumersDeleteCommand = defineCommand({
  name: 'consumers delete',
  summary: 'forget a consumer (its cursor no longer holds the log)',
  positionals: [{ name: 'name', description: 'consumer name' }],
  flags: {},
  async run({ positionals: [name] }, ctx) {
    const app = await ctx.open('read', { repairs: name });
    try {
      const damage = damageOf(app.registry, name!);
      stillSaying(damage, ctx, () => app.registry.delete(name!));
      await ctx.out(ctx.json ? JSON.stringify({ deleted: name }) + '\n' : `deleted consumer ${name}\n`);
      if (damage) ctx.err(`note: the cursor file ${damage.path} was damaged (${damage.why}); deleted with the consumer\n`);
      noteProjectionCursor(name!, ctx);
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

/** The damage of the consumer's cursor file, when it cannot be read (the command replaces or removes it). */
function damageOf(registry: ConsumerRegistry, name: string): CorruptCursorError | undefined {
  try {
    registry.get(name);
    return undefined;
  } catch (err) {
    if (err instanceof CorruptCursorError) return err;
    return undefined; // not registered: the command itself says so
  }
}

/** Runs the repair; when it is refused, the damage it would have repaired is still reported (its warning was left out). */
function stillSaying<T>(damage: CorruptCursorError | undefined, ctx: { err(s: string): void }, repair: () => T): T {
  try {
    return repair();
  } catch (err) {
    if (damage) ctx.err(`warning: the cursor file ${damage.path} is damaged (${damage.why}) and stays so\n`);
    throw err;
  }
}

/** The app's projection whose cursor is the consumer `name`, if any. */
function projectionOfCursor(name: string): (typeof PROJECTIONS)[number] | undefined {
  return PROJECTIONS.find((p) => consumerNameOf(p.name) === name);
}

/**
 * A projection's damaged cursor needs no reset by hand (the registry's
 * advice for a plain consumer): every command that writes opens the app as
 * the writer, whose engine rewrites it; undefined for anything else.
 */
function projectionCursorDamage(c: { name: string; damage?: { path: string; why: string } }): string | undefined {
  const projection = projectionOfCursor(c.name);
  if (!projection || !c.damage) return undefined;
  return (
    `cursor file ${c.damage.path} is damaged: ${c.damage.why}; it is the cursor of projection "${projection.name}", rewritten by the next command that writes ` +
    `(\`episteme assert\`, \`retract\`, \`import\` or \`projections rebuild ${projection.name}\`); the projection's state is untouched`
  );
}

/**
 * A projection's cursor moved by hand changes nothing the user can see (it
 * held the log back for cleanup, which under the app only moves segments to
 * the archive, where rebuilds still read them; `consumers list` shows its lag): the
 * projection resumes from its snapshot, and the engine sets the cursor to
 * the projection's checkpoint at its next snapshot (a deleted one is
 * registered again whenever the app opens the journal as the writer, and
 * by a running app at the next snapshot). Say
 * so, and how to start the projection over.
 */
function noteProjectionCursor(consumer: string, ctx: { err(s: string): void }): void {
  const projection = projectionOfCursor(consumer);
  if (!projection) return;
  ctx.err(
    `note: ${consumer} is the cursor of projection "${projection.name}": it only shows how far the projection got (cleanup moves segments to the archive, where a rebuild still reads them); the projection resumes from its snapshot, ` +
      `and its engine sets the cursor to the projection's checkpoint at its next snapshot; a deleted cursor is registered again by the next command that writes, or by a running app at the projection's next snapshot (\`episteme projections rebuild ${projection.name}\` starts the projection over)\n`,
  );
}

export const projectionsListCommand = defineCommand({
  name: 'projections list',
  summary: 'every projection: version, checkpoint, state of its snapshot',
  positionals: [],
  flags: {},
  async run(_args, ctx) {
    const app = await ctx.open('read');
    try {
      const store = new FileSnapshotStore(app.journal.dir);
      const { head, earliest } = app.journal;
      // without a usable snapshot a projection starts from offset 0: say so when cleanup deleted it
      const rebuilds = earliest > 0 ? `(cannot rebuild: the records below ${earliest} were deleted)` : '(rebuilds on start)';
      const rows = PROJECTIONS.map((p) => {
        try {
          const snap = store.load(p.name);
          if (!snap) return { name: p.name, version: p.version, checkpoint: null, head, events: 0, state: `no snapshot ${rebuilds}` };
          const state =
            snap.version !== p.version ? `version ${snap.version} on disk ${rebuilds}` : snap.checkpoint > head ? `beyond the head ${rebuilds}` : snap.checkpoint === head ? 'current' : `behind by ${head - snap.checkpoint} bytes`;
          return { name: p.name, version: p.version, checkpoint: snap.checkpoint, head, events: snap.events, savedAt: snap.savedAt, state };
        } catch (err) {
          if (err instanceof CorruptSnapshotError) return { name: p.name, version: p.version, checkpoint: null, head, events: 0, state: `snapshot damaged ${rebuilds}` };
          throw err;
        }
      });
      if (ctx.json) await ctx.out(JSON.stringify(rows) + '\n');
      else {
        await ctx.out(table(['name', 'version', 'checkpoint', 'head', 'events', 'state'], rows.map((r) => [r.name, String(r.version), String(r.checkpoint ?? '-'), String(r.head), String(r.events), r.state])));
        const stale = rows.filter((r) => r.state.endsWith('(rebuilds on start)')).map((r) => r.name);
        if (stale.length > 0) {
          ctx.err(
            `note: every query rebuilds ${stale.join(', ')} from offset 0 in memory until a snapshot is saved: ` +
              `\`episteme projections rebuild <name>\` saves one (it needs the log from offset 0; so does an app that runs the projection engine)\n`,
          );
        }
      }
    } finally {
      await app.close();
    }
    return Exit.Ok;
  },
});

export const projectionsRebuildCommand = defineCommand({
  name: 'projections rebuild',
  summary: 'rebuild a projection from offset 0 (takes the writer lock)',
  positionals: [{ name: 'name', description: PROJECTIONS.map((p) => p.name).join(' or ') }],
  flags: {},
  async run({ positionals: [name] }, ctx) {
    if (!PROJECTIONS.some((p) => p.name === name)) throw new UsageError(`unknown projection ${JSON.stringify(name)} (known: ${PROJECTIONS.map((p) => p.name).join(', ')})`);
    const app = await ctx.open('write');
    // Ctrl-C: the rebuild stops where it is; nothing of it is saved, the previous snapshot stays
    const interrupted = new AbortController();
    const removeInterrupt = ctx.onInterrupt(() => interrupted.abort());
    try {
      const bar = ctx.stderrIsTTY && !ctx.json ? new ProgressLine((s) => ctx.err(s), `rebuild ${name}`, () => performance.now()) : undefined;
      const report = await app.engine.rebuild(name!, {
        onProgress: (p) => bar?.update({ segment: `${p.done} of ${p.total} events, ${Math.round(p.rate)} events/s`, bytesDone: p.done, bytesTotal: p.total }),
        signal: interrupted.signal,
      });
      bar?.clear();
      if (interrupted.signal.aborted) {
        await ctx.out(
          ctx.json
            ? JSON.stringify({ name, interrupted: true }) + '\n'
            : `rebuild of ${name} interrupted: nothing of it was saved, the projection's previous snapshot stays; run it again to rebuild\n`,
        );
        return Exit.Interrupted;
      }
      await ctx.out(
        ctx.json
          ? JSON.stringify(report) + '\n'
          : `rebuilt ${name} from offset 0: ${report.events} events in ${(report.durationMs / 1000).toFixed(2)} s (${Math.round(report.rate)} events/s), checkpoint ${report.checkpoint}\n`,
      );
    } finally {
      removeInterrupt();
      await app.close();
    }
    return Exit.Ok;
  },
});
