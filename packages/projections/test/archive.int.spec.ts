import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, verifyJournal } from '@episteme/wal';
import { ConsumerRegistry } from '@episteme/consumers';
import { FileSnapshotStore, InMemorySnapshotStore, ProjectionEngine } from '../src/index.js';
import { appendEvents, canonicalHash, quiet, tally, tempDir, type Ev } from './helpers.js';

const events = (n: number): Ev[] => Array.from({ length: n }, (_, i) => ({ type: ['a', 'b', 'c'][i % 3]!, n: i }));
const segmentsIn = (d: string): string[] => readdirSync(d).filter((n) => n.endsWith('.wal')).sort();

async function openApp(dir: string, archiveDir: string, version: number) {
  const journal = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 1024, archiveDir });
  const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: true });
  const engine = ProjectionEngine.forJournal(journal, { registry, store: new FileSnapshotStore(dir), logger: quiet, snapshotEveryEvents: 10 });
  engine.register(tally(version));
  return { journal, registry, engine };
}

/** The projection folded over a whole log that never had cleanup: what a rebuild must equal. */
async function foldOf(dir: string, version: number): Promise<string> {
  const journal = await Journal.open({ dir });
  const engine = ProjectionEngine.forJournal(journal, { store: new InMemorySnapshotStore(), logger: quiet });
  engine.register(tally(version));
  await engine.start({ follow: false });
  const hash = canonicalHash(engine.query('tally').state);
  await engine.stop();
  await journal.close();
  return hash;
}

describe('archive tier', () => {
  it('cleanup archives whole segments; a projection with a bumped version rebuilds from offset 0 through the archive and equals a fold of the whole log; a missing archive file gives the history-deleted error naming it', async () => {
    const dir = join(tempDir(), 'journal');
    const archive = join(tempDir(), 'archive');
    const reference = join(tempDir(), 'reference');
    const app = await openApp(dir, archive, 1);
    await appendEvents(app.journal, events(200));
    await app.journal.sync();
    cpSync(dir, reference, { recursive: true });
    await app.engine.start({ follow: false });
    await app.engine.stop(); // the snapshot moves the projection's cursor: cleanup runs
    expect(segmentsIn(archive).length).toBeGreaterThan(3);
    expect(segmentsIn(dir).length).toBeLessThan(segmentsIn(reference).length);
    expect([...segmentsIn(archive), ...segmentsIn(dir)].sort()).toEqual(segmentsIn(reference)); // moved, not copied or lost
    expect(app.journal.earliest).toBe(0);
    await app.journal.close();

    // verify covers the archive
    const verified = verifyJournal(dir, { archiveDir: archive });
    expect(verified).toMatchObject({ ok: true, earliest: 0, segmentsChecked: segmentsIn(reference).length });

    const bumped = await openApp(dir, archive, 2);
    expect(bumped.journal.earliest).toBe(0);
    const [report] = await bumped.engine.start({ follow: false });
    expect(report).toMatchObject({ mode: 'rebuilt', reason: 'version-changed', events: 200 });
    expect(canonicalHash(bumped.engine.query('tally').state)).toBe(await foldOf(reference, 2));
    await bumped.engine.stop();
    await bumped.journal.close();

    // an archive file gone: history is really gone, and the error says which file
    const gone = segmentsIn(archive)[1]!;
    rmSync(join(archive, gone));
    const broken = await openApp(dir, archive, 3);
    expect(broken.journal.earliest).toBeGreaterThan(0);
    const [failed] = await broken.engine.start({ follow: false });
    expect(failed!.mode).toBe('failed');
    expect(failed!.error).toMatchObject({ code: 'PROJECTION_HISTORY_DELETED' });
    expect(failed!.error!.message).toContain(join(archive, gone));
    await broken.engine.stop();
    await broken.journal.close();
  });
});
