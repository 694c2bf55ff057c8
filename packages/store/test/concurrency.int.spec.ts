import { describe, expect, it } from 'vitest';
import { isStoreError, openEventStore, StoreErrorCodes, VersionConflictError } from '../src/index.js';
import { foldVersions, readCommits, tempDir } from './helpers.js';

const STREAMS = 8;
const APPENDERS = 64;
const ATTEMPTS = 25;

interface Attempt {
  /** Call order: taken synchronously right before appendToStream, which reserves in that same step. */
  seq: number;
  stream: string;
  expected: number;
  count: number;
  ids: string[];
  outcome?: { ok: true; next: number; globalPosition: number } | { ok: false; actual: number };
}

describe('concurrent appenders with expected versions', () => {
  it(`${APPENDERS} appenders on ${STREAMS} streams: one winner per version, dense versions, every success in the log, every conflict names the actual version`, async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    const attempts: Attempt[] = [];
    let seq = 0;
    await Promise.all(
      Array.from({ length: APPENDERS }, async (_, a) => {
        const stream = `order-${a % STREAMS}`;
        let known = (await store.readStream(stream, { maxCount: 0 })).currentVersion;
        for (let i = 0; i < ATTEMPTS; i++) {
          const count = 1 + ((a + i) % 3);
          const ids = Array.from({ length: count }, (_, k) => `a${a}-i${i}-e${k}`);
          const attempt: Attempt = { seq: seq++, stream, expected: known, count, ids };
          attempts.push(attempt);
          try {
            const r = await store.appendToStream(stream, ids.map((id) => ({ id, type: 'Placed', data: { a, i } })), { expectedVersion: known });
            attempt.outcome = { ok: true, next: r.nextExpectedVersion, globalPosition: r.globalPosition };
            known = r.nextExpectedVersion;
          } catch (err) {
            if (!isStoreError(err, StoreErrorCodes.VersionConflict)) throw err;
            const actual = (err as VersionConflictError).actual;
            attempt.outcome = { ok: false, actual };
            known = actual; // a real caller re-reads; the conflict already says where the stream is
          }
        }
      }),
    );
    // replay the attempts in call order: the version each stream had when each call reserved
    const version = new Map<string, number>();
    let wins = 0;
    for (const at of [...attempts].sort((x, y) => x.seq - y.seq)) {
      const v = version.get(at.stream) ?? 0;
      if (at.outcome!.ok) {
        expect(at.expected, `seq ${at.seq}`).toBe(v);
        expect(at.outcome!.ok && at.outcome!.next).toBe(v + at.count);
        version.set(at.stream, v + at.count);
        wins++;
      } else {
        expect(at.expected, `seq ${at.seq}: a conflict where the expected version held`).not.toBe(v);
        expect(at.outcome!.actual, `seq ${at.seq}: the actual version of ${at.stream}`).toBe(v);
      }
    }
    expect(wins).toBeGreaterThan(STREAMS);
    for (let s = 0; s < STREAMS; s++) expect((await store.readStream(`order-${s}`, { maxCount: 0 })).currentVersion).toBe(version.get(`order-${s}`) ?? 0);
    await store.close();

    // the log, read without the store: dense versions, every success whole, nothing else
    const commits = await readCommits({ dir });
    const fold = foldVersions(commits);
    expect(fold.violations).toEqual([]);
    expect(fold.versions).toEqual(version);
    const logged = new Map(commits.map((c) => [c.ids[0]!, c]));
    const successes = attempts.filter((a) => a.outcome!.ok);
    expect(commits.length).toBe(successes.length);
    for (const s of successes) expect(logged.get(s.ids[0]!)?.ids).toEqual(s.ids);
  });

  it('concurrent appends with any expected version to one stream all land, in call order, with dense versions', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.appendToStream('hot', [{ type: 't', data: i }])));
    expect(results.map((r) => r.nextExpectedVersion)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const { events } = await store.readStream('hot');
    expect(events.map((e) => e.data)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await store.close();
  });
});
