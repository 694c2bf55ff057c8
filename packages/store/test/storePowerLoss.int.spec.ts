import { describe, expect, it } from 'vitest';
import { SimulatedDisk } from '@episteme/wal/testing';
import { isStoreError, openEventStore, type EventStoreOptions } from '../src/index.js';
import { eventsOf, STREAMS } from './children/commitShape.js';
import { foldVersions, readCommits } from './helpers.js';
import { SOAK, seededRandom } from './rng.js';

let dirs = 0;
const simDir = (): string => `/sim/${process.pid}-${Date.now()}-${dirs++}/store`;

/**
 * Power loss through the I/O seam, as the journal's own suite does it: at
 * a random disk operation the machine stops, then the unsynced writes are
 * dropped, or a random prefix of them is kept (the last one torn, or with
 * the writes in it kept or lost independently). After every reopen the
 * store must show whole commits only, dense versions, every acknowledged
 * commit, and an index equal to a fold of the log.
 */
describe('the store under simulated power loss', () => {
  const rounds = 40 * SOAK;

  it(`keeps commits whole, versions dense and every acknowledged commit (${rounds} rounds, 3 power losses each)`, async () => {
    let acknowledged = 0;
    const sources = new Map<string, number>();
    for (let round = 0; round < rounds; round++) {
      const seed = 500 + round;
      const rnd = seededRandom(seed);
      const disk = new SimulatedDisk(rnd);
      const options: EventStoreOptions = {
        dir: simDir(),
        io: disk,
        maxSegmentBytes: 4096 + Math.floor(rnd() * 16384),
        groupCommit: rnd() < 0.5 ? { maxBatchRecords: 1 + Math.floor(rnd() * 8) } : undefined,
        checkpointEvery: 1 + Math.floor(rnd() * 10),
      };
      const counts = new Map<string, number>();
      const acked = new Map<string, number>();
      for (let cycle = 0; cycle <= 3; cycle++) {
        const at = `seed ${seed} cycle ${cycle}`;
        // the log as recovery leaves it (read without the store): whole commits, dense versions, every acknowledged commit
        const commits = cycle === 0 ? [] : await readCommits({ dir: options.dir, io: disk });
        const store = await openEventStore(options).catch((err: unknown) => {
          throw new Error(`${at}: open failed: ${String(err)}`);
        });
        sources.set(store.openStats.source, (sources.get(store.openStats.source) ?? 0) + 1);
        const { versions, violations } = foldVersions(commits);
        expect(violations, at).toEqual([]);
        const inLog = new Map(commits.map((c) => [c.ids[0]!.replace(/-0$/, ''), c]));
        for (const c of commits) {
          const name = c.ids[0]!.replace(/-0$/, '');
          expect(c.ids, `${at}: ${name} whole`).toEqual(eventsOf(name, counts.get(name)!).map((e) => e.id));
        }
        for (const [name, next] of acked) {
          const c = inLog.get(name);
          expect(c, `${at}: acknowledged ${name}`).toBeDefined();
          expect(c!.firstPosition + c!.ids.length - 1).toBe(next);
        }
        for (const [stream, version] of versions) expect((await store.readStream(stream, { maxCount: 0 })).currentVersion, `${at}: ${stream}`).toBe(version);
        if (cycle === 3) {
          await store.close();
          break;
        }
        const freezeAt = 20 + Math.floor(rnd() * 400);
        let ops = 0;
        disk.inject = () => {
          if (++ops === freezeAt) disk.freeze();
          return undefined;
        };
        const appenders = 1 + Math.floor(rnd() * 4);
        await Promise.all(
          Array.from({ length: appenders }, async (_, a) => {
            for (let i = 0; i < 60; i++) {
              const name = `c${cycle}a${a}i${i}`;
              const count = 1 + Math.floor(rnd() * 20);
              const stream = STREAMS[Math.floor(rnd() * 3)]!;
              counts.set(name, count);
              try {
                const expectedVersion = rnd() < 0.5 ? 'any' : (await store.readStream(stream, { maxCount: 0 })).currentVersion;
                const r = await store.appendToStream(stream, eventsOf(name, count), { expectedVersion });
                acked.set(name, r.nextExpectedVersion);
              } catch (err) {
                if (isStoreError(err, 'STORE_VERSION_CONFLICT')) continue;
                return; // the power went: this appender stops
              }
            }
          }),
        );
        await store.close().catch(() => undefined);
        disk.inject = undefined;
        const kept = rnd();
        disk.powerLoss({ keepPrefix: kept < 2 / 3, reorder: kept < 1 / 3 });
      }
      acknowledged += acked.size;
    }
    expect(acknowledged).toBeGreaterThan(rounds * 5);
    console.log(`store power loss: ${rounds * 3} power losses, ${acknowledged} acknowledged commits kept; index at open: ${JSON.stringify(Object.fromEntries(sources))}`);
  });
});
