import { describe, expect, it } from 'vitest';
import { isWalError, nodeFileIO, type FileIO } from '@episteme/wal';
import { SimulatedDisk } from '@episteme/wal/testing';
import { EncodedCommitsBuilder, eventsOfEncoded, isStoreError, openEventStore, StoreErrorCodes, type EncodedCommits, type Event, type StoreErrorCode, type StreamCommit } from '../src/index.js';
import { failNextSegmentWrite, foldVersions, readCommits, snapshot, tempDir } from './helpers.js';

const ev = (tag: string, n = 1, metadata?: Record<string, unknown>): Event[] => Array.from({ length: n }, (_, i) => ({ type: 'Happened', data: { tag, i, text: 'é ☃ 😀' }, ...(metadata ? { metadata } : {}) }));

const PRODUCER = Object.freeze({ producer: 'import:x', schema: 1 });

/** The commits of the equivalence test: every expected version, conflicts, a deleted stream, several commits of one stream, shared and other metadata. */
function commits(): StreamCommit[] {
  return [
    { stream: 'a', events: ev('a1', 2, PRODUCER), expectedVersion: 1 },
    { stream: 'b', events: ev('b1', 1, PRODUCER), expectedVersion: 'no_stream' },
    { stream: 'a', events: ev('a-late', 1, PRODUCER), expectedVersion: 1 }, // conflict: a is at 3 after the first
    { stream: 'c', events: ev('c1'), expectedVersion: 5 }, // conflict: no stream c
    { stream: 'b', events: ev('b2', 3, { other: true }), expectedVersion: 1 },
    { stream: 'gone', events: ev('g1') }, // deleted
    { stream: 'a', events: ev('a2', 1, PRODUCER), expectedVersion: 'stream_exists' },
    { stream: 'n', events: ev('n1', 1, PRODUCER), expectedVersion: 'stream_exists' }, // conflict: no stream n
    { stream: 'n', events: ev('n2', 1, PRODUCER), expectedVersion: 'any' },
  ];
}

async function storeWithHistory(dir: string) {
  const store = await openEventStore({ dir, groupCommit: true });
  await store.appendToStream('a', ev('a0'));
  await store.appendToStream('gone', ev('g0'));
  await store.deleteStream('gone');
  return store;
}

function codeOf(err: unknown): StoreErrorCode | undefined {
  return isStoreError(err) ? err.code : undefined;
}

describe('appendEncoded: commits encoded ahead', () => {
  it('decides and writes each commit as appendEach does: the same outcomes, the same events read back, the same log', async () => {
    const eachDir = tempDir();
    const each = await storeWithHistory(eachDir);
    const expected = await each.appendEach(commits());
    const eachEvents = (await Promise.all(['a', 'b', 'n'].map((s) => each.readStream(s)))).map((r) => r.events.map(({ type, data, metadata, streamPosition }) => ({ type, data, metadata, streamPosition })));
    await each.close();

    const dir = tempDir();
    const store = await storeWithHistory(dir);
    const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
    for (const c of commits()) builder.add(c.stream, c.events, c.expectedVersion);
    expect(builder.size).toBe(9);
    const batch = builder.take();
    expect(builder.size).toBe(0);
    // what a caller gets back of a commit, for appending it another way
    expect(eventsOfEncoded(batch, 4)).toEqual(ev('b2', 3, { other: true }));
    const outcomes = await store.appendEncoded(batch);
    expect([...outcomes.refused.keys()]).toEqual([2, 3, 5, 7]);
    expect([...outcomes.refused.values()].map(codeOf)).toEqual(['STORE_VERSION_CONFLICT', 'STORE_VERSION_CONFLICT', 'STORE_STREAM_DELETED', 'STORE_VERSION_CONFLICT']);
    expected.forEach((o, i) => {
      if (o.status === 'rejected') {
        expect(codeOf(outcomes.refused.get(i))).toBe(codeOf(o.reason));
        expect((outcomes.refused.get(i) as Error).message).toBe((o.reason as Error).message);
        expect([outcomes.positions[i], outcomes.versions[i]]).toEqual([-1, -1]);
      } else {
        expect([outcomes.positions[i], outcomes.versions[i]], `commit ${i}`).toEqual([o.value.globalPosition, o.value.nextExpectedVersion]);
      }
    });
    const events = (await Promise.all(['a', 'b', 'n'].map((s) => store.readStream(s)))).map((r) => r.events.map(({ type, data, metadata, streamPosition }) => ({ type, data, metadata, streamPosition })));
    expect(events).toEqual(eachEvents);
    // ids the store generated: UUID v7, each its own
    const ids = (await store.readStream('b')).events.map((e) => e.id);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await store.close();
    const log = await readCommits({ dir });
    expect(foldVersions(log).violations).toEqual([]);
    expect(log.map((c) => [c.stream, c.firstPosition])).toEqual((await readCommits({ dir: eachDir })).map((c) => [c.stream, c.firstPosition]));
    // and the index the store rebuilds from the log agrees with the one it kept (checkpoint)
    const again = await openEventStore({ dir });
    expect((await again.readStream('a')).currentVersion).toBe(4);
    await again.close();
  });

  it('a commit whose stream has a write in flight waits for it; a batch survives a reopen of the store', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    const first = store.appendToStream('busy', ev('first'));
    const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
    builder.add('busy', ev('second'), 1);
    builder.add('free', ev('f'));
    const outcomes = await store.appendEncoded(builder.take());
    expect((await first).nextExpectedVersion).toBe(1);
    expect(outcomes.refused.size).toBe(0);
    expect([...outcomes.versions]).toEqual([2, 1]);
    await store.close();
    const reopened = await openEventStore({ dir });
    expect((await reopened.readStream('busy')).events.map((e) => (e.data as { tag: string }).tag)).toEqual(['first', 'second']);
    await reopened.close();
  });

  it('a journal write that fails refuses every commit of the batch with its error, and the one queued on top; nothing is in the index; the same batch again is written', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const options = { dir: `/sim/${process.pid}-${Date.now()}-encoded/store`, io: disk, groupCommit: true, preallocateBytes: 0 };
    const store = await openEventStore(options);
    await store.appendToStream('s', ev('s0'));
    failNextSegmentWrite(disk);
    const batch = (): EncodedCommits => {
      const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
      builder.add('s', ev('s1'), 1);
      builder.add('t', ev('t1'), 'no_stream');
      return builder.take();
    };
    const encoded = store.appendEncoded(batch());
    const onTop = store.appendToStream('s', ev('s2'), { expectedVersion: 2 });
    const [outcomes, top] = await Promise.all([encoded, onTop.then(() => undefined, (e: unknown) => e)]);
    disk.inject = undefined;
    expect([...outcomes.refused.keys()]).toEqual([0, 1]);
    for (const reason of outcomes.refused.values()) expect(isWalError(reason, 'WAL_WRITE_FAILED')).toBe(true);
    expect([...outcomes.positions]).toEqual([-1, -1]);
    expect(codeOf(top)).toBe('STORE_COMMIT_ABORTED');
    expect((await store.readStream('s', { maxCount: 0 })).currentVersion).toBe(1);
    expect(await store.streamExists('t')).toBe(false);
    const again = await store.appendEncoded(batch());
    expect(again.refused.size).toBe(0);
    expect([...again.versions]).toEqual([2, 1]);
    await store.close();
    const commits = await readCommits({ dir: options.dir, io: disk });
    expect(foldVersions(commits).violations).toEqual([]);
    expect(commits.length).toBe(3);
  });

  it('a close right after a periodic checkpoint of the whole log does not write it again; the next open replays nothing', async () => {
    const dir = tempDir();
    const renames: string[] = [];
    const io: FileIO = { ...nodeFileIO, rename: (from, to) => (renames.push(to), nodeFileIO.rename(from, to)) };
    const store = await openEventStore({ dir, io, groupCommit: true, checkpointEvery: 100 });
    const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
    for (let i = 0; i < 100; i++) builder.add(`s-${i}`, ev(`e${i}`), 'no_stream');
    expect((await store.appendEncoded(builder.take())).refused.size).toBe(0);
    await store.close(); // waits for the periodic checkpoint the 100th commit started
    expect(renames.filter((p) => p.endsWith('index.ckpt'))).toHaveLength(1);
    const again = await openEventStore({ dir, io });
    expect(again.openStats).toEqual({ source: 'checkpoint', recordsReplayed: 0 });
    expect(again.streamCount).toBe(100);
    // one more commit: the close writes the checkpoint again
    await again.appendToStream('s-0', ev('more'), { expectedVersion: 1 });
    await again.close();
    expect(renames.filter((p) => p.endsWith('index.ckpt'))).toHaveLength(2);
    const last = await openEventStore({ dir });
    expect(last.openStats).toEqual({ source: 'checkpoint', recordsReplayed: 0 });
    await last.close();
  });

  it('the builder refuses what appendEach refuses, with the same typed error, and adds nothing', () => {
    const builder = new EncodedCommitsBuilder(300);
    builder.add('ok', ev('ok'));
    const cases: [string, () => void, StoreErrorCode][] = [
      ['a bad stream name', () => builder.add('$all', ev('x')), 'STORE_INVALID_STREAM_NAME'],
      ['a bad expected version', () => builder.add('s', ev('x'), -1 as never), 'STORE_INVALID_ARGUMENT'],
      ['no events', () => builder.add('s', []), 'STORE_INVALID_ARGUMENT'],
      ['an event id given', () => builder.add('s', [{ id: 'e1', type: 't', data: {} }]), 'STORE_INVALID_ARGUMENT'],
      ['data that is not JSON', () => builder.add('s', [{ type: 't', data: { n: 1n } }]), 'STORE_INVALID_ARGUMENT'],
      ['metadata that is not a plain object', () => builder.add('s', [{ type: 't', data: {}, metadata: [1] as never }]), 'STORE_INVALID_ARGUMENT'],
      ['a commit over the payload limit', () => builder.add('s', [{ type: 't', data: 'x'.repeat(400) }]), 'STORE_COMMIT_TOO_LARGE'],
      ['one over the limit in UTF-8 only', () => builder.add('s', [{ type: 't', data: '☃'.repeat(90) }]), 'STORE_COMMIT_TOO_LARGE'],
    ];
    for (const [what, add, code] of cases) {
      let err: unknown;
      try {
        add();
      } catch (e) {
        err = e;
      }
      expect(codeOf(err), what).toBe(code);
      expect(builder.size, what).toBe(1);
    }
    const batch = builder.take();
    expect(batch.streams).toEqual(['ok']);
    expect(eventsOfEncoded(batch, 0)).toEqual(ev('ok'));
  });

  it('keeps the JSON of a metadata object across adds only when it cannot change: frozen, with nothing but plain values', () => {
    const builder = new EncodedCommitsBuilder(1 << 20);
    const mutable = { producer: 'p' };
    const shallow = Object.freeze({ inner: { v: 1 } });
    builder.add('m', [{ type: 't', data: 1, metadata: mutable }]);
    mutable.producer = 'changed';
    builder.add('m', [{ type: 't', data: 2, metadata: mutable }]);
    builder.add('m', [{ type: 't', data: 3, metadata: shallow }]);
    shallow.inner.v = 2;
    builder.add('m', [{ type: 't', data: 4, metadata: shallow }]);
    builder.add('m', [{ type: 't', data: 5, metadata: PRODUCER }]);
    builder.add('m', [{ type: 't', data: 6, metadata: PRODUCER }]);
    const batch = builder.take();
    expect([0, 1, 2, 3, 4, 5].map((i) => eventsOfEncoded(batch, i)[0]!.metadata)).toEqual([{ producer: 'p' }, { producer: 'changed' }, { inner: { v: 1 } }, { inner: { v: 2 } }, PRODUCER, PRODUCER]);
  });

  it('refuses a batch that is not as a builder makes it, with a typed error, before anything is written', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, groupCommit: true });
    await store.appendToStream('a', ev('a0'));
    await store.checkpoint();
    const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
    const good = (): EncodedCommits => {
      builder.add('x', ev('x1'));
      builder.add('y', ev('y1', 2));
      return builder.take();
    };
    const tampered = (change: (b: EncodedCommits) => EncodedCommits): EncodedCommits => change(good());
    const cases: [string, unknown, StoreErrorCode][] = [
      ['not an object', null, 'STORE_INVALID_ARGUMENT'],
      ['arrays missing', { bytes: new Uint8Array(0) }, 'STORE_INVALID_ARGUMENT'],
      ['lengths that differ', tampered((b) => ({ ...b, streams: ['x'] })), 'STORE_INVALID_ARGUMENT'],
      ['another stream named beside it', tampered((b) => ({ ...b, streams: ['x', 'z'] })), 'STORE_INVALID_ARGUMENT'],
      ['a bad stream name beside it', tampered((b) => ({ ...b, streams: ['x', '$y'] })), 'STORE_INVALID_STREAM_NAME'],
      ['an expected version that stands for none', tampered((b) => ({ ...b, expected: Float64Array.of(-1, -7) })), 'STORE_INVALID_ARGUMENT'],
      ['bytes past the last commit', tampered((b) => ({ ...b, bytes: Uint8Array.of(...b.bytes, 0) })), 'STORE_INVALID_ARGUMENT'],
      ['a commit cut short', tampered((b) => ({ ...b, ends: Int32Array.of(b.ends[0]! - 1, b.ends[1]!) })), 'STORE_INVALID_ARGUMENT'],
      ['a damaged magic', tampered((b) => (b.bytes[0] = 0, b)), 'STORE_INVALID_ARGUMENT'],
      [
        'an event whose id is flagged as given',
        tampered((b) => {
          // header, the name "x", id length and id, type length and type: then the flags
          b.bytes[28 + 1 + 1 + 36 + 2 + 'Happened'.length] = 0;
          return b;
        }),
        'STORE_INVALID_ARGUMENT',
      ],
    ];
    const before = snapshot(dir);
    for (const [what, batch, code] of cases) {
      let err: unknown;
      await store.appendEncoded(batch as EncodedCommits).catch((e: unknown) => (err = e));
      expect(codeOf(err), what).toBe(code);
    }
    expect(snapshot(dir)).toEqual(before);
    expect(await store.streamExists('x')).toBe(false);
    // over the store's own limit, though the builder took it
    const small = await openEventStore({ dir: tempDir(), maxPayloadBytes: 100 });
    const big = new EncodedCommitsBuilder(1 << 20);
    big.add('s', [{ type: 't', data: 'x'.repeat(200) }]);
    await expect(small.appendEncoded(big.take())).rejects.toMatchObject({ code: 'STORE_COMMIT_TOO_LARGE' });
    await small.close();
    await store.close();
    await expect(store.appendEncoded(good())).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('addEncodedRange copies commits as addEncoded does one by one: the same bytes, ends, streams and expected versions', () => {
    const source = new EncodedCommitsBuilder(1 << 20);
    for (let i = 0; i < 20; i++) source.add(`s-${i}`, ev(`e${i}`, 1 + (i % 3), PRODUCER), i % 2 === 0 ? 'no_stream' : i);
    const from = source.take();
    const one = new EncodedCommitsBuilder(1 << 20);
    const ranges = new EncodedCommitsBuilder(1 << 20, 16); // small: grows while copying
    for (const [a, b] of [[0, 0], [0, 1], [3, 9], [9, 10], [12, 20], [1, 3]] as const) {
      for (let i = a; i < b; i++) one.addEncoded(from, i);
      ranges.addEncodedRange(from, a, b);
    }
    const [x, y] = [one.take(), ranges.take()];
    expect(y.ends.length).toBe(18);
    expect(Buffer.from(y.bytes).equals(Buffer.from(x.bytes))).toBe(true);
    expect([...y.ends]).toEqual([...x.ends]);
    expect(y.streams).toEqual(x.streams);
    expect([...y.expected]).toEqual([...x.expected]);
  });
});
