import { describe, expect, it } from 'vitest';
import { SimulatedDisk } from '@episteme/wal/testing';
import { isWalError } from '@episteme/wal';
import { isStoreError, openEventStore, StoreErrorCodes, type CommitOutcome, type StoreErrorCode, type StreamCommit, type VersionConflictError } from '../src/index.js';
import { failNextSegmentWrite, foldVersions, readCommits, snapshot, tempDir } from './helpers.js';

const ev = (tag: string, n = 1, ids = false) => Array.from({ length: n }, (_, i) => ({ ...(ids ? { id: `${tag}-${i}` } : {}), type: 'Happened', data: { tag, i } }));

function reasonOf(o: CommitOutcome): unknown {
  if (o.status !== 'rejected') throw new Error(`expected a refusal, got ${JSON.stringify(o)}`);
  return o.reason;
}

function valueOf(o: CommitOutcome) {
  if (o.status !== 'fulfilled') throw new Error(`expected a success, got ${String(o.reason)}`);
  return o.value;
}

describe('appendEach: many independent commits', () => {
  it('decides each commit as appendToStream called in array order would: conflicts refuse only their own commit, the others are written in order', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    await store.appendToStream('a', ev('a0'));
    await store.appendToStream('gone', ev('g0'));
    await store.deleteStream('gone');
    const outcomes = await store.appendEach([
      { stream: 'a', events: ev('a1', 2), expectedVersion: 1 }, // ok: a at 1
      { stream: 'b', events: ev('b1'), expectedVersion: 'no_stream' }, // ok
      { stream: 'a', events: ev('a-late'), expectedVersion: 1 }, // conflict: the first commit of this call moved a to 3
      { stream: 'c', events: ev('c1'), expectedVersion: 5 }, // conflict: no stream c
      { stream: 'b', events: ev('b2'), expectedVersion: 1 }, // ok: sees b1 of this call
      { stream: 'gone', events: ev('g1') }, // refused: deleted, no recreate
      { stream: 'gone', events: ev('g2'), recreate: true, expectedVersion: 'no_stream' }, // ok: starts again at 1
      { stream: 'a', events: ev('a2'), expectedVersion: 'stream_exists' }, // ok: a at 3
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(valueOf(outcomes[0]!)).toMatchObject({ nextExpectedVersion: 3, createdStream: false });
    expect(valueOf(outcomes[1]!)).toMatchObject({ nextExpectedVersion: 1, createdStream: true });
    expect(isStoreError(reasonOf(outcomes[2]!), StoreErrorCodes.VersionConflict)).toBe(true);
    expect((reasonOf(outcomes[2]!) as VersionConflictError).actual).toBe(3);
    expect((reasonOf(outcomes[3]!) as VersionConflictError).actual).toBe(0);
    expect(valueOf(outcomes[4]!)).toMatchObject({ nextExpectedVersion: 2, createdStream: false });
    expect(isStoreError(reasonOf(outcomes[5]!), StoreErrorCodes.StreamDeleted)).toBe(true);
    expect(valueOf(outcomes[6]!)).toMatchObject({ nextExpectedVersion: 1, createdStream: true });
    expect(valueOf(outcomes[7]!)).toMatchObject({ nextExpectedVersion: 4 });
    // global positions increase in array order: the successes went to the log in that order
    const positions = outcomes.filter((o) => o.status === 'fulfilled').map((o) => valueOf(o).globalPosition);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect((await store.readStream('a')).events.map((e) => (e.data as { tag: string }).tag)).toEqual(['a0', 'a1', 'a1', 'a2']);
    expect((await store.readStream('b')).events.map((e) => e.streamPosition)).toEqual([1, 2]);
    await store.close();
    const commits = await readCommits({ dir });
    expect(foldVersions(commits).violations).toEqual([]);
    // the log holds the three commits before the call, then the five successes, nothing of the refused ones
    expect(commits.slice(3).map((c) => c.stream)).toEqual(['a', 'b', 'b', 'gone', 'a']);
  });

  it('writes the commits of streams with nothing pending as one journal appendBatch; a commit of a stream with a write in flight waits for it', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    const journal = (store as unknown as { journal: { appendBatch: (...a: unknown[]) => unknown; append: (...a: unknown[]) => unknown } }).journal;
    const calls: number[] = [];
    const appendBatch = journal.appendBatch.bind(journal);
    journal.appendBatch = (payloads: unknown, ...rest: unknown[]) => {
      calls.push((payloads as unknown[]).length);
      return appendBatch(payloads, ...rest);
    };
    const inFlight = store.appendToStream('busy', ev('first'));
    const outcomes = await store.appendEach([
      { stream: 'x', events: ev('x') },
      { stream: 'busy', events: ev('second'), expectedVersion: 1 }, // reserved on top of the write in flight
      { stream: 'y', events: ev('y') },
      { stream: 'x', events: ev('x2'), expectedVersion: 1 },
    ]);
    expect((await inFlight).nextExpectedVersion).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(valueOf(outcomes[1]!).nextExpectedVersion).toBe(2);
    // x, y and x again in one call; busy's commit in a wave of its own once the first settled
    expect(calls[0]).toBe(3);
    expect(valueOf(outcomes[1]!).globalPosition).toBeGreaterThan(valueOf(outcomes[3]!).globalPosition);
    await store.close();
    expect(foldVersions(await readCommits({ dir })).violations).toEqual([]);
  });

  it('an empty call resolves to no outcomes and writes nothing', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir });
    await store.appendToStream('s', ev('s'));
    await store.checkpoint();
    const before = snapshot(dir);
    expect(await store.appendEach([])).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
    await store.close();
  });

  it('a retry inside one call, and across calls, resolves to the original result; the same ids with other content are refused; each is written once', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    const original: StreamCommit = { stream: 'r', events: ev('r1', 2, true), expectedVersion: 'no_stream' };
    const inOne = await store.appendEach([
      original,
      { stream: 'r', events: ev('r1', 2, true), expectedVersion: 'no_stream' }, // the same commit again: waits for the first, then is its retry
      { stream: 'other', events: [{ id: 'r1-0', type: 'Happened', data: 'else' }] }, // an id of the first in another commit: refused
      { stream: 'q', events: ev('q', 1, true) },
    ]);
    const first = valueOf(inOne[0]!);
    expect(first.alreadyAppended).toBeUndefined();
    expect(valueOf(inOne[1]!)).toEqual({ ...first, alreadyAppended: true });
    expect(isStoreError(reasonOf(inOne[2]!), StoreErrorCodes.DuplicateEventId)).toBe(true);
    expect(valueOf(inOne[3]!).nextExpectedVersion).toBe(1);
    // a later call retrying both, with their original expected versions, writes nothing
    const again = await store.appendEach([original, { stream: 'q', events: ev('q', 1, true) }, { stream: 'r', events: ev('r2', 1, true), expectedVersion: 2 }]);
    expect(valueOf(again[0]!)).toEqual({ ...first, alreadyAppended: true });
    expect(valueOf(again[1]!)).toEqual({ ...valueOf(inOne[3]!), alreadyAppended: true });
    expect(valueOf(again[2]!).nextExpectedVersion).toBe(3);
    await store.close();
    expect((await readCommits({ dir })).map((c) => c.ids.join())).toEqual(['r1-0,r1-1', 'q-0', 'r2-0']);
  });

  const bad: Array<[string, StoreErrorCode, unknown]> = [
    ['not an array', 'STORE_INVALID_ARGUMENT', { stream: 's', events: ev('x') }],
    ['a commit that is not an object', 'STORE_INVALID_ARGUMENT', [{ stream: 'ok', events: ev('ok') }, null]],
    ['a bad stream name', 'STORE_INVALID_STREAM_NAME', [{ stream: 'ok', events: ev('ok') }, { stream: 'a b', events: ev('x') }]],
    ['an unknown key (a misspelt expected version)', 'STORE_INVALID_ARGUMENT', [{ stream: 'ok', events: ev('ok') }, { stream: 's', events: ev('x'), expectedVersoin: 3 }]],
    ['a bad expected version', 'STORE_INVALID_ARGUMENT', [{ stream: 'ok', events: ev('ok') }, { stream: 's', events: ev('x'), expectedVersion: -1 }]],
    ['recreate that is not a boolean', 'STORE_INVALID_ARGUMENT', [{ stream: 's', events: ev('x'), recreate: 'yes' }]],
    ['an empty commit', 'STORE_INVALID_ARGUMENT', [{ stream: 'ok', events: ev('ok') }, { stream: 's', events: [] }]],
    ['an event without a type', 'STORE_INVALID_ARGUMENT', [{ stream: 'ok', events: ev('ok') }, { stream: 's', events: [{ data: 1 }] }]],
    ['an id twice in one commit', 'STORE_INVALID_ARGUMENT', [{ stream: 's', events: [{ id: 'd', type: 't', data: 1 }, { id: 'd', type: 't', data: 2 }] }]],
    ['a commit too large', 'STORE_COMMIT_TOO_LARGE', [{ stream: 'ok', events: ev('ok') }, { stream: 's', events: [{ type: 't', data: 'x'.repeat(5000) }] }]],
  ];

  it('refuses bad input as a whole, with its typed error, and writes nothing (not even the good commits beside it)', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, maxPayloadBytes: 4096 });
    await store.appendToStream('s', ev('before'));
    await store.checkpoint();
    const before = snapshot(dir);
    for (const [name, code, commits] of bad) {
      const err = await store.appendEach(commits as StreamCommit[]).then(() => undefined, (e: unknown) => e);
      expect(isStoreError(err, code), `${name}: ${String(err)}`).toBe(true);
    }
    expect(snapshot(dir)).toEqual(before);
    expect(await store.streamExists('ok')).toBe(false);
    expect((await store.readStream('s')).currentVersion).toBe(1);
    await store.close();
    expect(isStoreError(await store.appendEach([{ stream: 's', events: ev('late') }]).catch((e: unknown) => e), StoreErrorCodes.Closed)).toBe(true);
  });

  it('a journal write that fails refuses every commit of the wave with its error, aborts what waits on top of them, and leaves no gap', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const options = { dir: `/sim/${process.pid}-${Date.now()}-each/store`, io: disk, groupCommit: true, preallocateBytes: 0 };
    const store = await openEventStore(options);
    await store.appendToStream('s', ev('s0'));
    failNextSegmentWrite(disk);
    const each = store.appendEach([
      { stream: 's', events: ev('s1'), expectedVersion: 1 },
      { stream: 't', events: ev('t1') },
    ]);
    const onTop = store.appendToStream('s', ev('s2'), { expectedVersion: 2 });
    const [outcomes, top] = await Promise.all([each, onTop.then(() => undefined, (e: unknown) => e)]);
    disk.inject = undefined;
    for (const o of outcomes) expect(isWalError(reasonOf(o), 'WAL_WRITE_FAILED')).toBe(true);
    expect(isStoreError(top, StoreErrorCodes.CommitAborted)).toBe(true);
    expect((await store.readStream('s', { maxCount: 0 })).currentVersion).toBe(1);
    expect(await store.streamExists('t')).toBe(false);
    const next = await store.appendEach([{ stream: 's', events: ev('s1'), expectedVersion: 1 }, { stream: 't', events: ev('t1'), expectedVersion: 'no_stream' }]);
    expect(next.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    await store.close();
    const commits = await readCommits({ dir: options.dir, io: disk });
    expect(foldVersions(commits).violations).toEqual([]);
    expect(commits.length).toBe(3);
  });
});
