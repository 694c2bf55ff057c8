import { existsSync } from 'node:fs';
import { FileSnapshotStore, ProjectionEngine } from '@episteme/projections';
import { isWalError, Journal, WalErrorCodes, type JournalReader } from '@episteme/wal';
import type { AppConfig } from '../app/config.js';
import { journalOptionsOf } from '../app/container.js';
import { beliefsProjection, type BeliefsState } from '../projections/beliefs.js';
import { ReadOnlySnapshotStore } from './context.js';

/** The ids cannot be checked (the beliefs projection failed): a write that depends on them is refused. */
export class IdCheckError extends Error {
  readonly code = 'APP_ID_CHECK_FAILED';
  override readonly name = 'IdCheckError';

  constructor(readonly detail: string) {
    super(
      `cannot check assertion ids: projection "beliefs" failed (${detail}); nothing was appended ` +
        `(\`episteme projections list\` shows the projections; an assertion without --id needs no check)`,
    );
  }
}

/**
 * Which assertion ids stand, for the checks of the write commands (retract
 * an id that stands, never reuse one): the beliefs projection resumed from
 * its snapshot and caught up to the head in memory, once, on first need (an
 * `assert` without `--id` never pays for it). An engine of its own, with no
 * cursor and a snapshot store that drops saves, so the check writes nothing;
 * without a snapshot of the current version it replays the whole log (the
 * write commands save none: `projections rebuild beliefs` does). The answer
 * is as of that moment: later appends are the caller's to track (import
 * keeps the ids of its own lines).
 */
export class StandingAssertions {
  private state: BeliefsState | IdCheckError | undefined;

  constructor(private readonly journal: Journal | JournalReader) {}

  /**
   * The subject of the standing assertion `id`; undefined when none stands.
   * IdCheckError when it cannot be told: appending unchecked could retract
   * nothing for good, or silently replace a standing assertion.
   */
  async subjectOf(id: string): Promise<string | undefined> {
    this.state ??= await this.catchUp();
    if (this.state instanceof IdCheckError) throw this.state;
    return this.state.subjectOf[id];
  }

  private async catchUp(): Promise<BeliefsState | IdCheckError> {
    const engine = new ProjectionEngine({
      journal: this.journal,
      store: new ReadOnlySnapshotStore(new FileSnapshotStore(this.journal.dir)),
      logger: { warn: () => undefined, info: () => undefined }, // `projections list` is where a snapshot's state is reported
    });
    engine.register(beliefsProjection);
    const [report] = await engine.start({ follow: false });
    await engine.stop();
    if (report?.mode === 'failed') {
      return new IdCheckError(report.detail ?? 'no detail');
    }
    return engine.query<BeliefsState>('beliefs').state;
  }
}

/**
 * The subject of the standing assertion `id`, asked of a read-only journal
 * before a command opens the writer: the writer's open runs recovery, which
 * may change files, and a refused command must change nothing. A writer
 * appending between this check and the command's own append can race it;
 * the beliefs projection then keeps the later assertion (see beliefs.ts).
 */
export async function subjectBeforeWriting(config: AppConfig, id: string): Promise<string | undefined> {
  const options = journalOptionsOf(config);
  if (!existsSync(options.dir)) return undefined; // no journal yet: nothing stands
  let journal: JournalReader;
  try {
    journal = await Journal.openForRead(options);
  } catch (err) {
    if (isWalError(err) && err.code === WalErrorCodes.NotAJournal) return undefined;
    throw err;
  }
  try {
    return await new StandingAssertions(journal).subjectOf(id);
  } finally {
    await journal.close();
  }
}
