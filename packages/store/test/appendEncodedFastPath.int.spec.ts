import { describe, expect, it } from 'vitest';
import { SimulatedDisk } from '@episteme/wal/testing';
import { EncodedCommitsBuilder, isStoreError, openEventStore, type Event, type ExpectedVersion, type LocalEventStore, type StreamCommit } from '../src/index.js';
import { failNextSegmentWrite, foldVersions, readCommits, tempDir } from './helpers.js';
import { seededRandom, SOAK } from './rng.js';

/**
 * appendEncoded reserves a commit of a stream with no lane by the stream's
 * slot in the index (no lane, no second lookup): these runs check that it
 * decides exactly as the general way (appendEach, appendToStream), with
 * batches in flight together, other calls on the same streams between
 * them, deleted streams, conflicts and retries.
 */

type Op =
  | { kind: 'batch'; commits: StreamCommit[] }
  | { kind: 'one'; commit: StreamCommit; id?: string }
  | { kind: 'delete'; stream: string }
  | { kind: 'checkpoint' };

const STREAMS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function randomOps(random: () => number, count: number): Op[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const expected = (): ExpectedVersion | undefined => {
    const r = random();
    if (r < 0.2) return undefined;
    if (r < 0.35) return 'any';
    if (r < 0.55) return 'no_stream';
    if (r < 0.7) return 'stream_exists';
    return Math.floor(random() * 5); // right or wrong
  };
  let n = 0;
  const commit = (): StreamCommit => {
    const events: Event[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ type: 'T', data: { n: n++ } }));
    const e = expected();
    return e === undefined ? { stream: pick(STREAMS), events } : { stream: pick(STREAMS), events, expectedVersion: e };
  };
  const ops: Op[] = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.55) ops.push({ kind: 'batch', commits: Array.from({ length: 1 + Math.floor(random() * 12) }, commit) });
    else if (r < 0.8) {
      // an event with its own id; now and then an id used before (a retry: its original result, or a conflict of content)
      const again = ids.length > 0 && random() < 0.3;
      const id = again ? pick(ids) : `id-${i}`;
      if (!again) ids.push(id);
      ops.push({ kind: 'one', commit: commit(), id });
    } else if (r < 0.93) ops.push({ kind: 'one', commit: commit() });
    else if (r < 0.98) ops.push({ kind: 'delete', stream: pick(STREAMS) });
    else ops.push({ kind: 'checkpoint' });
  }
  return ops;
}

/** What a call came to: a version or an error code, per commit. */
type Outcome = number | string;

const codeOf = (err: unknown): string => (isStoreError(err) ? err.code : `not a store error: ${String(err)}`);

/**
 * Runs the ops without awaiting any before the next (so batches and calls
 * overlap in flight), encoded batches through appendEncoded or, with
 * `general`, the same commits through appendEach.
 */
async function run(store: LocalEventStore, ops: Op[], general: boolean, pause?: () => Promise<void> | undefined): Promise<Outcome[][]> {
  const calls: Promise<Outcome[]>[] = [];
  for (const op of ops) {
    await pause?.();
    if (op.kind === 'batch') {
      if (general) {
        calls.push(store.appendEach(op.commits).then((os) => os.map((o) => (o.status === 'fulfilled' ? o.value.nextExpectedVersion : codeOf(o.reason)))));
      } else {
        const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
        for (const c of op.commits) builder.add(c.stream, c.events, c.expectedVersion);
        calls.push(store.appendEncoded(builder.take()).then((o) => [...o.versions].map((v, i) => (o.refused.has(i) ? codeOf(o.refused.get(i)) : v))));
      }
    } else if (op.kind === 'one') {
      const { stream, events, expectedVersion } = op.commit;
      const withId = op.id === undefined ? events : events.map((e, i) => ({ ...e, id: `${op.id}-${i}` }));
      calls.push(store.appendToStream(stream, withId, expectedVersion === undefined ? undefined : { expectedVersion }).then((r) => [r.nextExpectedVersion], (e: unknown) => [codeOf(e)]));
    } else if (op.kind === 'delete') {
      calls.push(store.deleteStream(op.stream).then(() => [0], (e: unknown) => [codeOf(e)]));
    } else {
      calls.push(store.checkpoint().then(() => []));
    }
  }
  return Promise.all(calls);
}

async function streamsOf(store: LocalEventStore): Promise<unknown[]> {
  return Promise.all(STREAMS.map(async (s) => {
    const r = await store.readStream(s);
    return { s, version: r.currentVersion, events: r.events.map((e) => [e.streamPosition, e.data]) };
  }));
}

describe('appendEncoded reserved by slot: the same decisions as the general way', () => {
  it('random ops with batches in flight together: the same outcomes, the same streams, also after a reopen', async () => {
    const seeds = 12 * SOAK;
    for (let seed = 1; seed <= seeds; seed++) {
      const ops = randomOps(seededRandom(seed), 60);
      const results: { outcomes: Outcome[][]; streams: unknown[]; count: number }[] = [];
      for (const general of [true, false]) {
        const dir = tempDir();
        const store = await openEventStore({ dir, groupCommit: true });
        const outcomes = await run(store, ops, general);
        const streams = await streamsOf(store);
        const count = store.streamCount;
        await store.close();
        const reopened = await openEventStore({ dir });
        expect(await streamsOf(reopened), `seed ${seed}: read after reopen`).toEqual(streams);
        expect(reopened.streamCount).toBe(count);
        await reopened.close();
        results.push({ outcomes, streams, count });
      }
      expect(results[1], `seed ${seed}`).toEqual(results[0]);
    }
  });

  it('random ops with a journal write failing on the way: no gap in any stream, and what was acknowledged is what the log holds', async () => {
    const seeds = 12 * SOAK;
    let acknowledged = 0;
    let failedByWrite = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const random = seededRandom(1000 + seed);
      const ops = randomOps(random, 60);
      const failAt = Math.floor(random() * ops.length);
      const disk = new SimulatedDisk(() => 0.5);
      const options = { dir: `/sim/${process.pid}-${seed}-fail/store`, io: disk, groupCommit: true, preallocateBytes: 0 };
      const store = await openEventStore(options);
      // now and then a turn of the event loop, so that the ops go out in several journal writes, some in flight while others are decided
      const pause = (): Promise<void> | undefined => (random() < 0.15 ? new Promise((r) => setImmediate(r)) : undefined);
      // the write after op failAt fails: a wave of it or of the ops around it
      let i = 0;
      const outcomes = await run(store, ops, false, () => {
        if (i++ === failAt) failNextSegmentWrite(disk);
        return pause();
      });
      disk.inject = undefined;
      const streams = await streamsOf(store);
      await store.close();
      const logged = await readCommits({ dir: options.dir, io: disk });
      const { versions, violations } = foldVersions(logged);
      expect(violations, `seed ${seed}`).toEqual([]);
      for (const s of streams as { s: string; version: number }[]) expect(s.version, `seed ${seed}, stream ${s.s}`).toBe(versions.get(s.s) ?? 0);
      // every batch commit acknowledged with version v is in the log: a commit of its stream ends at v
      const ends = new Set(logged.filter((c) => c.kind === 'commit').map((c) => `${c.stream}@${c.firstPosition + c.types.length - 1}`));
      ops.forEach((op, i) => {
        if (op.kind !== 'batch') return;
        op.commits.forEach((c, k) => {
          const o = outcomes[i]![k]!;
          if (typeof o !== 'number') {
            if (o === 'STORE_COMMIT_ABORTED' || o.includes('WAL_WRITE_FAILED')) failedByWrite++;
            return;
          }
          acknowledged++;
          expect(ends.has(`${c.stream}@${o}`), `seed ${seed}, op ${i}, commit ${k}: ${c.stream}@${o}`).toBe(true);
        });
      });
    }
    // the runs wrote batches, and the failing write refused some of them
    expect(acknowledged).toBeGreaterThan(0);
    expect(failedByWrite).toBeGreaterThan(0);
  });

  it('a batch whose journal write fails leaves no stream behind: not counted, not read, not in the checkpoint; a later write of the stream starts it at 1', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const options = { dir: `/sim/${process.pid}-${Date.now()}-slots/store`, io: disk, groupCommit: true, preallocateBytes: 0 };
    const store = await openEventStore(options);
    await store.appendToStream('old', [{ type: 'T', data: {} }]);
    failNextSegmentWrite(disk);
    const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
    builder.add('new-1', [{ type: 'T', data: {} }], 'no_stream');
    builder.add('new-2', [{ type: 'T', data: {} }], 'no_stream');
    const failed = store.appendEncoded(builder.take());
    // behind the failing wave: each waits for it, then is aborted with it (an encoded commit too: no gap)
    const behind = store.appendToStream('new-1', [{ type: 'T', data: {} }], { expectedVersion: 1 }).then(() => 'written', codeOf);
    const next = new EncodedCommitsBuilder(store.maxPayloadBytes);
    next.add('new-2', [{ type: 'T', data: {} }], 1);
    const behindEncoded = store.appendEncoded(next.take());
    expect((await failed).refused.size).toBe(2);
    expect(await behind).toBe('STORE_COMMIT_ABORTED');
    const second = await behindEncoded;
    expect([...second.refused.keys()]).toEqual([0]);
    expect(codeOf(second.refused.get(0))).toBe('STORE_COMMIT_ABORTED');
    expect([...second.versions]).toEqual([-1]);
    disk.inject = undefined;
    expect(store.streamCount).toBe(1);
    expect(await store.streamExists('new-1')).toBe(false);
    await store.close();
    const reopened = await openEventStore(options);
    expect(reopened.openStats).toEqual({ source: 'checkpoint', recordsReplayed: 0 });
    expect(reopened.streamCount).toBe(1);
    expect((await reopened.appendToStream('new-1', [{ type: 'T', data: {} }], { expectedVersion: 'no_stream' })).nextExpectedVersion).toBe(1);
    const again = new EncodedCommitsBuilder(reopened.maxPayloadBytes);
    again.add('new-2', [{ type: 'T', data: {} }], 'no_stream');
    expect([...(await reopened.appendEncoded(again.take())).versions]).toEqual([1]);
    expect(reopened.streamCount).toBe(3);
    await reopened.close();
    expect(foldVersions(await readCommits({ dir: options.dir, io: disk })).violations).toEqual([]);
  });
});
