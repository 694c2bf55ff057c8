import { describe, expect, it } from 'vitest';
import { openEventStore } from '../src/index.js';
import { eventsOf } from './children/commitShape.js';
import { spawnChild } from './children/spawn.js';
import { foldVersions, readCommits, tempDir, type LoggedCommit } from './helpers.js';
import { SOAK, seededRandom } from './rng.js';

const KILLS = Math.max(12, Number(process.env.EPISTEME_CRASH_KILLS ?? 0) || 12 * SOAK);

/** How each call names its events: appendEach by their ids, appendEncoded (whose ids the store makes) by their types. */
const MODES = [
  { call: 'appendEach', mode: 'each', names: (c: LoggedCommit) => c.ids },
  { call: 'appendEncoded', mode: 'encoded', names: (c: LoggedCommit) => c.types },
] as const;

describe.each(MODES)('$call under SIGKILL', ({ call, mode, names }) => {
  it(`keeps every acknowledged commit whole at its version and global position, and no commit half-written, across ${KILLS} kills mid-batch`, async () => {
    const rnd = seededRandom(25);
    const dir = tempDir();
    const counts = new Map<string, number>();
    const acked = new Map<string, [next: number, globalPosition: number]>();
    /** Commits a kill caught between their write and their acknowledgement (in the log, never acked): kills do land mid-batch. */
    const inLogNotAcked = new Set<string>();
    for (let kill = 0; kill < KILLS; kill++) {
      const child = spawnChild('eachAppender.ts', [dir, `k${kill}`, String(kill * 7919 + 3), mode]);
      await child.waitFor((l) => l.startsWith('ready'));
      // past the first calls: kills land while batches are being written and synced
      await child.waitFor((l) => l.startsWith('ack'));
      await new Promise((r) => setTimeout(r, rnd() * 150));
      child.proc.kill('SIGKILL');
      await child.exited;
      for (const line of child.lines) {
        const [what, name, a, b] = line.split(' ');
        if (what === 'try') counts.set(name!, Number(b));
        else if (what === 'ack') acked.set(name!, [Number(a), Number(b)]);
      }
      const at = `kill ${kill}`;
      const commits = await readCommits({ dir });
      const byName = new Map<string, LoggedCommit>();
      for (const c of commits) {
        const name = names(c)[0]!.replace(/-0$/, '');
        expect(counts.has(name), `${at}: a commit nobody announced (${names(c)[0]})`).toBe(true);
        // whole: every event its writer announced, in order, and nothing else
        expect(names(c), `${at}: commit ${name} is whole`).toEqual(eventsOf(name, counts.get(name)!).map((e) => e.id));
        expect(byName.has(name), `${at}: ${name} is in the log once`).toBe(false);
        byName.set(name, c);
        if (!acked.has(name)) inLogNotAcked.add(name);
      }
      expect(foldVersions(commits).violations, at).toEqual([]);
      const store = await openEventStore({ dir });
      try {
        for (const [name, [next, globalPosition]] of acked) {
          const c = byName.get(name);
          expect(c, `${at}: acknowledged commit ${name} is in the log`).toBeDefined();
          expect(c!.firstPosition + c!.ids.length - 1, `${at}: ${name}'s version`).toBe(next);
          const { events } = await store.readStream(c!.stream, { from: c!.firstPosition, to: next });
          expect(events.map((e) => e.id)).toEqual(c!.ids);
          expect(events.map((e) => e.type)).toEqual(c!.types);
          expect(events[events.length - 1]!.globalPosition, `${at}: ${name}'s global position`).toBe(globalPosition);
        }
        for (const [stream, version] of foldVersions(commits).versions) expect((await store.readStream(stream, { maxCount: 0 })).currentVersion, `${at}: ${stream}`).toBe(version);
      } finally {
        await store.close();
      }
    }
    expect(acked.size).toBeGreaterThan(KILLS * 20);
    expect(inLogNotAcked.size, 'some kill landed between a batch\'s write and its acknowledgement').toBeGreaterThan(0);
    console.log(`${call} crash test: ${KILLS} kills, ${acked.size} acknowledged commits verified, ${inLogNotAcked.size} commits found in the log without their acknowledgement`);
  }, 60_000 + KILLS * 8_000);
});
