import { describe, expect, it } from 'vitest';
import { isStoreError, openEventStore } from '../src/index.js';
import { eventsOf } from './children/commitShape.js';
import { spawnChild } from './children/spawn.js';
import { foldVersions, readCommits, tempDir, type LoggedCommit } from './helpers.js';
import { SOAK, seededRandom } from './rng.js';

const KILLS = Math.max(30, Number(process.env.EPISTEME_CRASH_KILLS ?? 0) || 30 * SOAK);

interface Intent {
  stream: string;
  count: number;
  expected: string;
}

/**
 * After recovery: every commit in the log is whole (the count its writer
 * announced), versions are dense, every acknowledged commit is there at the
 * version and global position it was acknowledged with, and the store's
 * index agrees with a fold of the log.
 */
async function checkStore(dir: string, intents: Map<string, Intent>, acked: Map<string, [number, number]>, at: string): Promise<{ commits: LoggedCommit[]; replayed: number }> {
  const commits = await readCommits({ dir });
  const byName = new Map<string, LoggedCommit>();
  for (const c of commits) {
    const name = c.ids[0]!.replace(/-0$/, '');
    const intent = intents.get(name);
    expect(intent, `${at}: a commit nobody announced (${c.ids[0]})`).toBeDefined();
    expect(c.ids, `${at}: commit ${name} is whole`).toEqual(eventsOf(name, intent!.count).map((e) => e.id));
    expect(c.stream).toBe(intent!.stream);
    expect(byName.has(name), `${at}: ${name} is in the log once`).toBe(false);
    byName.set(name, c);
  }
  const { versions, violations } = foldVersions(commits);
  expect(violations, at).toEqual([]);
  const store = await openEventStore({ dir });
  // the child checkpoints every 25 commits (and the parent at each close): the open after a kill folds only the tail;
  // the first child may die before its first checkpoint
  if (at !== 'kill 0') expect(store.openStats.source, at).toBe('checkpoint');
  const replayed = store.openStats.recordsReplayed;
  try {
    for (const [name, [next, globalPosition]] of acked) {
      const c = byName.get(name);
      expect(c, `${at}: acknowledged commit ${name}`).toBeDefined();
      expect(c!.firstPosition + c!.ids.length - 1).toBe(next);
      const { events } = await store.readStream(c!.stream, { from: c!.firstPosition, to: next });
      expect(events.map((e) => e.id)).toEqual(c!.ids);
      expect(events[events.length - 1]!.globalPosition).toBe(globalPosition);
    }
    for (const [stream, version] of versions) expect((await store.readStream(stream, { maxCount: 0 })).currentVersion, `${at}: ${stream}`).toBe(version);
    // the global read gives every event of every commit, in log order, with increasing positions
    const all: string[] = [];
    let last = -1;
    for await (const e of store.readAll()) {
      expect(e.globalPosition).toBeGreaterThan(last);
      last = e.globalPosition;
      all.push(e.id);
    }
    expect(all).toEqual(commits.flatMap((c) => c.ids));
  } finally {
    await store.close();
  }
  return { commits, replayed };
}

describe('store crash safety with real processes', () => {
  it(`keeps commits whole and versions dense across ${KILLS} SIGKILLs of a store writer, and retries after a kill resolve to what the log holds`, async () => {
    const rnd = seededRandom(23);
    const dir = tempDir();
    const intents = new Map<string, Intent>();
    const acked = new Map<string, [number, number]>();
    let retriedInLog = 0;
    let retriedAppended = 0;
    let maxReplayed = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const group = kill % 2 === 1;
      const appenders = 1 + Math.floor(rnd() * (group ? 6 : 3));
      const child = spawnChild('storeAppender.ts', [dir, String(appenders), group ? '1' : '0', `k${kill}`, String(kill * 7919 + 1)]);
      await child.waitFor((l) => l.startsWith('ready'));
      await new Promise((r) => setTimeout(r, 30 + rnd() * 200));
      child.proc.kill('SIGKILL');
      await child.exited;
      const unacked = new Set<string>();
      for (const line of child.lines) {
        const [what, name, a, b, c] = line.split(' ');
        if (what === 'try') {
          intents.set(name!, { stream: a!, count: Number(b), expected: c! });
          unacked.add(name!);
        } else if (what === 'ack') {
          acked.set(name!, [Number(a), Number(b)]);
          unacked.delete(name!);
        } else if (what === 'conflict') unacked.delete(name!);
        else if (what === 'retry-bad') throw new Error(`kill ${kill}: a retry of ${name} was appended again`);
      }
      const { commits, replayed } = await checkStore(dir, intents, acked, `kill ${kill}`);
      expect(replayed, `kill ${kill}: records folded at open`).toBeLessThanOrEqual(100);
      maxReplayed = Math.max(maxReplayed, replayed);
      // the commits in flight at the kill: a retry with the same ids and expected version finds them, or appends them now
      const inLog = new Set(commits.map((c) => c.ids[0]!.replace(/-0$/, '')));
      const store = await openEventStore({ dir });
      for (const name of unacked) {
        const intent = intents.get(name)!;
        const expectedVersion = intent.expected === 'any' ? 'any' : Number(intent.expected);
        const r = await store.appendToStream(intent.stream, eventsOf(name, intent.count), { expectedVersion }).catch((e: unknown) => e);
        if (inLog.has(name)) {
          expect((r as { alreadyAppended?: boolean }).alreadyAppended, `kill ${kill}: retry of ${name}, which is in the log`).toBe(true);
          retriedInLog++;
        } else if (isStoreError(r, 'STORE_VERSION_CONFLICT')) {
          intents.delete(name);
        } else {
          expect((r as { alreadyAppended?: boolean }).alreadyAppended, `kill ${kill}: retry of ${name}, not in the log`).toBeUndefined();
          acked.set(name, [(r as { nextExpectedVersion: number }).nextExpectedVersion, (r as { globalPosition: number }).globalPosition]);
          retriedAppended++;
        }
      }
      await store.close();
    }
    await checkStore(dir, intents, acked, 'the end');
    expect(acked.size).toBeGreaterThan(KILLS);
    console.log(`store crash test: ${KILLS} kills, ${acked.size} acknowledged commits verified, in-flight retries: ${retriedInLog} found in the log, ${retriedAppended} appended; at most ${maxReplayed} records folded at an open after a kill`);
  }, 60_000 + KILLS * 8_000); // a child's start (tsx) dominates: about 2 s each on a loaded machine
});
