import { describe, expect, it } from 'vitest';
import { SimulatedDisk } from '@episteme/wal/testing';
import { isStoreError, openEventStore, StoreErrorCodes } from '../src/index.js';
import { checkpointPath } from '../src/index/checkpoint.js';
import { rmSync } from 'node:fs';
import { readCommits, tempDir } from './helpers.js';

const commit = (tag: string, n = 2) => Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, type: 'Happened', data: { tag, i } }));

describe('idempotent appends', () => {
  it('a retry after success resolves to the original result with alreadyAppended and writes nothing, whatever its expected version', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir });
    await store.appendToStream('s', commit('pre', 1));
    const first = await store.appendToStream('s', commit('c1'), { expectedVersion: 1 });
    const again = await store.appendToStream('s', commit('c1'), { expectedVersion: 1 }); // the original expected version: no conflict
    expect(again).toEqual({ ...first, alreadyAppended: true });
    expect(await store.appendToStream('s', commit('c1'))).toEqual({ ...first, alreadyAppended: true });
    expect(await store.appendToStream('s', commit('c1'), { expectedVersion: 'no_stream' })).toEqual({ ...first, alreadyAppended: true });
    // another writer appended on top: the retry still finds its own commit
    await store.appendToStream('s', commit('other'), { expectedVersion: 3 });
    expect(await store.appendToStream('s', commit('c1'), { expectedVersion: 1 })).toEqual({ ...first, alreadyAppended: true });
    await store.close();
    expect((await readCommits({ dir })).map((c) => c.ids[0])).toEqual(['pre-0', 'c1-0', 'other-0']);
  });

  it('a retry racing its original (both in flight) writes once; both resolve to the same positions', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    const [a, b] = await Promise.all([store.appendToStream('s', commit('race'), { expectedVersion: 'no_stream' }), store.appendToStream('s', commit('race'), { expectedVersion: 'no_stream' })]);
    expect(a.alreadyAppended).toBeUndefined();
    expect(b).toEqual({ ...a, alreadyAppended: true });
    await store.close();
    expect((await readCommits({ dir })).length).toBe(1);
  });

  it('a retry after a reopen, and after the index was rebuilt from the log, still resolves to the original result', async () => {
    const dir = tempDir();
    let store = await openEventStore({ dir });
    const first = await store.appendToStream('s', commit('keep', 3), { expectedVersion: 'no_stream' });
    await store.close();
    store = await openEventStore({ dir });
    expect(await store.appendToStream('s', commit('keep', 3), { expectedVersion: 'no_stream' })).toEqual({ ...first, alreadyAppended: true });
    await store.close();
    rmSync(checkpointPath(dir));
    store = await openEventStore({ dir });
    expect(store.openStats.source).toBe('missing');
    expect(await store.appendToStream('s', commit('keep', 3), { expectedVersion: 'no_stream' })).toEqual({ ...first, alreadyAppended: true });
    await store.close();
  });

  it('refuses the same id with other content, in another stream, or in another commit, with STORE_DUPLICATE_EVENT_ID and writes nothing', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir });
    await store.appendToStream('s', commit('dup'));
    const attempts = [
      store.appendToStream('s', [{ id: 'dup-0', type: 'Happened', data: { tag: 'changed', i: 0 } }, commit('dup')[1]!]),
      store.appendToStream('s', [{ ...commit('dup')[0]!, metadata: { by: 'me' } }, commit('dup')[1]!]),
      store.appendToStream('s', [{ ...commit('dup')[0]!, type: 'Other' }, commit('dup')[1]!]),
      store.appendToStream('t', commit('dup')),
      store.appendToStream('s', [commit('dup')[0]!]),
      store.appendToStream('s', [...commit('dup'), { id: 'dup-2', type: 'Happened', data: {} }]),
      store.appendToStream('s', [{ id: 'fresh', type: 'Happened', data: {} }, commit('dup')[1]!]),
    ];
    for (const [i, p] of attempts.entries()) {
      const err = await p.catch((e: unknown) => e);
      expect(isStoreError(err, StoreErrorCodes.DuplicateEventId), `attempt ${i}: ${String(err)}`).toBe(true);
    }
    await store.close();
    expect((await readCommits({ dir })).length).toBe(1);
  });

  it('remembers only the last idempotencyWindow ids: an older retry is appended again', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, idempotencyWindow: 2 });
    await store.appendToStream('s', commit('old', 1));
    await store.appendToStream('s', commit('new', 2));
    const again = await store.appendToStream('s', commit('old', 1));
    expect(again.alreadyAppended).toBeUndefined();
    expect(again.nextExpectedVersion).toBe(4);
    await store.close();
  });

  it('a retry whose original commit cannot be read gets the read error, not STORE_DUPLICATE_EVENT_ID (found by the torture)', async () => {
    const disk = new SimulatedDisk();
    const store = await openEventStore({ dir: `/sim/${process.pid}-retry-read/store`, io: disk });
    const events = [{ id: 'e1', type: 'Opened', data: { n: 1 } }];
    await store.appendToStream('s', events);
    disk.freeze(); // every file operation now fails with EIO
    const err = await store.appendToStream('s', events).catch((e: unknown) => e);
    expect(isStoreError(err, StoreErrorCodes.DuplicateEventId)).toBe(false);
    expect(err).toMatchObject({ code: 'WAL_IO' });
    await store.close().catch(() => undefined);
  });
});
