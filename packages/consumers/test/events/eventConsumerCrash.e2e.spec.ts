import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEventStore } from '@episteme/store';
import { FileCursorStore } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { spawnChild } from '../../../wal/test/children/spawn.js';
import { SOAK, seededRandom } from '../../../wal/test/rng.js';

const KILLS = 12 * SOAK;
const CHILD = join(import.meta.dirname, '..', 'children', 'eventConsumer.ts');

interface Commit {
  offset: number;
  next: number;
  ids: string[];
}

describe('an event consumer across SIGKILLs', () => {
  it(`sees every commit whole, at least once, in order, across ${KILLS} SIGKILLs; the cursor only ever stands at a commit it has not finished`, async () => {
    const dir = tempDir();
    const rnd = seededRandom(23);
    const store = await openEventStore({ dir, durability: 'none', maxSegmentBytes: 64 * 1024 });
    for (let c = 0; c < 3000; c++) {
      const count = 1 + Math.floor(rnd() * 20);
      await store.appendToStream(`s-${c % 17}`, Array.from({ length: count }, (_, i) => ({ id: `c${c}-${i}`, type: 'T', data: { c, i } })));
    }
    const commits: Commit[] = store.log.readMany(0, 10_000).map((r) => ({ offset: r.offset, next: r.next, ids: store.decoder().eventsOf(r).map((e) => e.id) }));
    const head = store.log.head;
    await store.close();
    const indexOf = new Map(commits.map((c, i) => [c.offset, i]));
    const seenWhole = new Set<number>();
    let wholeUpTo = 0; // the next of the furthest commit seen whole
    let lastStart = 0;
    let cutMidCommit = 0;
    let finished = false;
    let kills = 0; // killed before reaching the head
    let mostHanded = 0;
    for (let run = 0; run <= KILLS && !finished; run++) {
      const killed = run < KILLS;
      const mode = run % 2 === 0 ? 'event' : 'batch';
      const child = spawnChild(CHILD, [dir, String(1 + Math.floor(rnd() * 5)), mode, killed ? 'slow' : 'fast']);
      const start = Number((await child.waitFor((l) => l.startsWith('start '))).split(' ')[1]);
      expect(start, `run ${run}: cursor moved backwards`).toBeGreaterThanOrEqual(lastStart);
      expect(start, `run ${run}: cursor past a commit never seen whole`).toBeLessThanOrEqual(wholeUpTo);
      expect(start === head || indexOf.has(start), `run ${run}: cursor ${start} is not at a commit`).toBe(true);
      if (killed) {
        await new Promise((r) => setTimeout(r, 30 + rnd() * 200));
        child.proc.kill('SIGKILL');
      } else await child.waitFor((l) => l === 'idle', 120_000);
      await child.exited;
      // what the run was handed, in order: from the first event of the commit at its cursor, the log's events without a gap
      const handed = child.lines.filter((l) => l.startsWith('e ') || l.startsWith('b ')).flatMap((l) => l.slice(2).split(','));
      let at = indexOf.get(start) ?? commits.length;
      let taken = 0;
      while (taken < handed.length) {
        const c = commits[at];
        expect(c, `run ${run}: handed events beyond the log`).toBeDefined();
        const part = handed.slice(taken, taken + c!.ids.length);
        expect(part, `run ${run}: commit at ${c!.offset}, from its first event, in order`).toEqual(c!.ids.slice(0, part.length));
        if (part.length < c!.ids.length) {
          // the kill cut this commit short: the next run must start from its first event
          cutMidCommit++;
          break;
        }
        seenWhole.add(at);
        wholeUpTo = Math.max(wholeUpTo, c!.next);
        taken += part.length;
        at++;
      }
      const cursor = new FileCursorStore(dir).read('worker')!.cursor;
      expect(cursor, `run ${run}: durable cursor past what was handled`).toBeLessThanOrEqual(wholeUpTo);
      lastStart = start;
      finished = child.lines.includes('idle');
      if (killed && !finished) kills++;
      mostHanded = Math.max(mostHanded, handed.length);
    }
    expect(finished).toBe(true);
    for (let i = 0; i < commits.length; i++) expect(seenWhole.has(i), `commit ${i} never seen whole`).toBe(true);
    expect(kills, 'runs killed before the head').toBe(KILLS);
    expect(cutMidCommit, 'kills that landed inside a commit').toBeGreaterThan(0);
    console.log(
      `event consumer crash test: ${kills} kills, ${commits.length} commits of ${commits.reduce((n, c) => n + c.ids.length, 0)} events; ` +
        `${cutMidCommit} kills landed inside a commit, each redelivered whole; at most ${mostHanded} events handed to one run`,
    );
  }, 60_000 + KILLS * 8_000);
});
