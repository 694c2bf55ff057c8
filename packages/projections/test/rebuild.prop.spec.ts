import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { ConsumerRegistry } from '@episteme/consumers';
import { InMemorySnapshotStore, ProjectionEngine } from '../src/index.js';
import { appendEvents, canonicalHash, later, quiet, tally, tempDir, type Ev } from './helpers.js';

const event = fc.record({ type: fc.constantFrom('made', 'retracted', 'merged', 'noted'), n: fc.integer({ min: -1000, max: 1000 }) });

describe('rebuild from offset 0', () => {
  it('equals the projection maintained incrementally (with restarts in between), over random event sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(event, { maxLength: 40 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 50 }), async (chunks: Ev[][], snapshotEvery) => {
        const dir = tempDir();
        const journal = await Journal.open({ dir, maxSegmentBytes: 2048, durability: 'none' });
        later(() => journal.close());
        const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: false });
        const store = new InMemorySnapshotStore();
        // incremental: an engine that follows, stopped and restarted after every chunk
        for (const chunk of chunks) {
          const engine = ProjectionEngine.forJournal(journal, { registry, store, snapshotEveryEvents: snapshotEvery, logger: quiet, batchSize: 7 });
          engine.register(tally());
          await engine.start();
          await appendEvents(journal, chunk);
          await engine.waitFor(journal.head);
          await engine.stop();
        }
        const incremental = ProjectionEngine.forJournal(journal, { registry, store, logger: quiet });
        incremental.register(tally());
        const [resumed] = await incremental.start({ follow: false });
        expect(resumed!.mode).toBe('resumed');

        const fresh = ProjectionEngine.forJournal(journal, { store: new InMemorySnapshotStore(), logger: quiet });
        fresh.register(tally());
        const [rebuilt] = await fresh.start({ follow: false });
        expect(rebuilt).toMatchObject({ mode: 'rebuilt', reason: 'no-snapshot' });

        const a = incremental.query('tally');
        const b = fresh.query('tally');
        expect(a.checkpoint).toBe(journal.head);
        expect(b.checkpoint).toBe(journal.head);
        expect(canonicalHash(a.state)).toBe(canonicalHash(b.state));
        expect((b.state as { count: number }).count).toBe(chunks.flat().length);
        const again = await incremental.rebuild('tally');
        expect(canonicalHash(incremental.query('tally').state)).toBe(canonicalHash(b.state));
        expect(again.events).toBe(chunks.flat().length);
      }),
      { numRuns: 25 },
    );
  });
});
