import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { InMemoryLog } from '@episteme/wal/testing';
import { FileSnapshotStore, InMemorySnapshotStore, ProjectionEngine, ProjectionErrorCodes, type SnapshotStore } from '../src/index.js';
import { encode, later, quiet, tally, tempDir } from './helpers.js';

describe('the ways to build an engine', () => {
  it('over a journal: snapshots in <journal>/projections/ unless a store is given', async () => {
    const dir = tempDir();
    const journal = await Journal.open({ dir, durability: 'none' });
    later(() => journal.close());
    await journal.appendBatch([encode({ type: 'a', n: 1 }), encode({ type: 'b', n: 2 })]);
    const engine = ProjectionEngine.forJournal(journal, { logger: quiet });
    engine.register(tally());
    await engine.start({ follow: false });
    await engine.stop();
    expect(new FileSnapshotStore(dir).load('tally')).toMatchObject({ checkpoint: journal.head, events: 2 });
    expect(join(dir, 'projections')).toBe(new FileSnapshotStore(dir).dir);
    const store = new InMemorySnapshotStore();
    const elsewhere = ProjectionEngine.forJournal(journal, { store, logger: quiet });
    elsewhere.register(tally());
    await elsewhere.start({ follow: false });
    await elsewhere.stop();
    expect(store.load('tally')).toMatchObject({ checkpoint: journal.head, events: 2 });
  });

  it('over any log, with its store', async () => {
    const log = new InMemoryLog();
    await log.appendBatch([encode({ type: 'a', n: 1 })]);
    const store = new InMemorySnapshotStore();
    const engine = new ProjectionEngine({ log, store, logger: quiet });
    engine.register(tally());
    expect(await engine.start({ follow: false })).toMatchObject([{ mode: 'rebuilt', checkpoint: 1, events: 1 }]);
    await engine.stop();
    expect(store.load('tally')).toMatchObject({ checkpoint: 1 });
  });

  it('refuses options without a log or a store with a typed error, naming the way in (a journal in the options, as before)', async () => {
    const dir = tempDir();
    const journal = await Journal.open({ dir, durability: 'none' });
    later(() => journal.close());
    const log = new InMemoryLog();
    for (const options of [{ journal }, {}, undefined, { log }, { log, store: {} as SnapshotStore }, { store: new InMemorySnapshotStore() }]) {
      expect(() => new ProjectionEngine(options as never)).toThrow(expect.objectContaining({ code: ProjectionErrorCodes.InvalidArgument }));
    }
    expect(() => new ProjectionEngine({ journal } as never)).toThrow(/ProjectionEngine\.forJournal/);
  });

  it('refuses a misspelt option (it would have been its default, silently), naming it, before any snapshot is read or written', async () => {
    const dir = tempDir();
    const journal = await Journal.open({ dir, durability: 'none' });
    later(() => journal.close());
    expect(() => ProjectionEngine.forJournal(journal, { snapshotEvryEvents: 10 } as never)).toThrow(
      expect.objectContaining({ code: ProjectionErrorCodes.InvalidArgument, message: expect.stringContaining('ProjectionEngine has no option "snapshotEvryEvents"') }),
    );
    expect(() => new ProjectionEngine({ log: new InMemoryLog(), store: new InMemorySnapshotStore(), batchSise: 10 } as never)).toThrow(expect.objectContaining({ code: ProjectionErrorCodes.InvalidArgument }));
    expect(existsSync(join(dir, 'projections'))).toBe(false);
    const engine = ProjectionEngine.forJournal(journal, { logger: quiet });
    await expect(engine.start({ folow: false } as never)).rejects.toMatchObject({ code: ProjectionErrorCodes.InvalidArgument, message: expect.stringContaining('start has no option "folow"') });
    await expect(engine.rebuild('any', { onProgres: () => undefined } as never)).rejects.toMatchObject({ code: ProjectionErrorCodes.InvalidArgument, message: expect.stringContaining('rebuild has no option "onProgres"') });
    expect(existsSync(join(dir, 'projections'))).toBe(false);
  });
});
