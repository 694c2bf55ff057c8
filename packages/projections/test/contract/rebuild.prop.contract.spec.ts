import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemorySnapshotStore } from '../../src/index.js';
import { canonicalHash, encode, quiet, tally, type Ev } from '../helpers.js';
import { engineOver, LOGS } from './engines.js';

const event = fc.record({ type: fc.constantFrom('made', 'retracted', 'merged', 'noted'), n: fc.integer({ min: -1000, max: 1000 }) });

describe.each(LOGS)('rebuild from offset 0, over $kind', (logs) => {
  it('equals the projection maintained incrementally (with restarts in between), over random event sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(event, { maxLength: 40 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 50 }), async (chunks: Ev[][], snapshotEvery) => {
        const h = await logs.create({ perUnit: 32 });
        const journal = h.log;
        const registry = h.registry({ logger: quiet, autoCleanup: false });
        const store = new InMemorySnapshotStore();
        // incremental: an engine that follows, stopped and restarted after every chunk
        for (const chunk of chunks) {
          const engine = engineOver(h, { registry, store, snapshotEveryEvents: snapshotEvery, logger: quiet, batchSize: 7 });
          engine.register(tally());
          await engine.start();
          await Promise.all(chunk.map((e) => h.append(encode(e))));
          await engine.waitFor(journal.head);
          await engine.stop();
        }
        const incremental = engineOver(h, { registry, store, logger: quiet });
        incremental.register(tally());
        const [resumed] = await incremental.start({ follow: false });
        expect(resumed!.mode).toBe('resumed');

        const fresh = engineOver(h, { store: new InMemorySnapshotStore(), logger: quiet });
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
