import { FileSnapshotStore, ProjectionEngine } from '@episteme/projections';
import type { Journal } from '@episteme/wal';
import { beliefsProjection, type BeliefsState } from '../projections/beliefs.js';
import { ReadOnlySnapshotStore } from './context.js';

/**
 * Which assertion ids stand, for the checks of the write commands (retract
 * an id that stands, never reuse one): the beliefs projection resumed from
 * its snapshot and caught up to the head in memory, once, on first need (an
 * `assert` without `--id` never pays for it). An engine of its own, with no
 * cursor and a snapshot store that drops saves: a refused command leaves
 * every file as it was. The answer is as of that moment; the command holds
 * the writer lock, so only its own appends come after, and it tracks those.
 */
export class StandingAssertions {
  /** null: the projection could not be caught up (the checks are skipped, with a warning). */
  private state: BeliefsState | null | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly warn: (message: string) => void,
  ) {}

  /** The subject of the standing assertion `id`; undefined when none stands; null when it cannot be told. */
  async subjectOf(id: string): Promise<string | undefined | null> {
    if (this.state === undefined) this.state = await this.catchUp();
    if (this.state === null) return null;
    return this.state.subjectOf[id];
  }

  private async catchUp(): Promise<BeliefsState | null> {
    const engine = new ProjectionEngine({
      journal: this.journal,
      store: new ReadOnlySnapshotStore(new FileSnapshotStore(this.journal.dir)),
      logger: { warn: () => undefined, info: () => undefined }, // the app's own engine reports the snapshot's state
    });
    engine.register(beliefsProjection);
    const [report] = await engine.start({ follow: false });
    await engine.stop();
    if (report?.mode === 'failed') {
      this.warn(`cannot check assertion ids: projection "beliefs" failed (${report.detail ?? 'unknown'}); appending unchecked`);
      return null;
    }
    return engine.query<BeliefsState>('beliefs').state;
  }
}
