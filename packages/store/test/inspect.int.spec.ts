/**
 * The inspection pieces of the CLIs (@episteme/store/internals):
 * describeCommit, the `episteme-wal dump --events` formatter, and
 * StreamsView, a store's streams read from a reader without the writer's
 * lock. Neither throws for what a log may hold; neither writes a file.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { encodeCommit, encodeTombstone, prepareCommit } from '../src/commit/encodeCommit.js';
import { checkpointPath } from '../src/index/checkpoint.js';
import { describeCommit } from '../src/inspect/describeCommit.js';
import { StreamsView } from '../src/inspect/streamsView.js';
import { openEventStore } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('describeCommit', () => {
  it('a commit: stream, positions, time, and its events as stored (ids, types, JSON or bytes data, metadata)', () => {
    const payload = encodeCommit(prepareCommit('cart-1', [{ id: 'e1', type: 'Opened', data: { a: 1 }, metadata: { by: 'x' } }, { type: 'Blob', data: new Uint8Array([1, 2, 3]) }]), 4, 1_700_000_000_000);
    const d = describeCommit(payload, 500);
    expect(d).toMatchObject({ kind: 'commit', stream: 'cart-1', firstPosition: 4, count: 2, recordedAt: '2023-11-14T22:13:20.000Z' });
    expect(d.kind === 'commit' && d.events).toEqual([
      { id: 'e1', generatedId: false, type: 'Opened', streamPosition: 4, globalPosition: 500, data: { a: 1 }, metadata: { by: 'x' } },
      { id: expect.any(String), generatedId: true, type: 'Blob', streamPosition: 5, globalPosition: 501, dataBase64: 'AQID' },
    ]);
    expect(describeCommit(encodeTombstone('cart-1', 5, 1_700_000_000_000), 900)).toEqual({ kind: 'tombstone', stream: 'cart-1', version: 5, recordedAt: '2023-11-14T22:13:20.000Z' });
  });

  it('anything else is described, not thrown: no store header, a cut commit, JSON that does not parse inside one', () => {
    expect(describeCommit(Buffer.from('plain text'), 7)).toEqual({ kind: 'not-a-commit', code: 'STORE_CORRUPT_COMMIT', reason: 'the record at log position 7 is not a valid commit: no store header' });
    const whole = Buffer.from(encodeCommit(prepareCommit('s', [{ type: 't', data: { x: 'y' } }]), 1, 1));
    expect(describeCommit(whole.subarray(0, whole.length - 3), 9)).toMatchObject({ kind: 'not-a-commit', code: 'STORE_CORRUPT_COMMIT', reason: expect.stringMatching(/^the record at log position 9 is not a valid commit: /) });
    const badJson = Buffer.from(whole);
    badJson[badJson.length - 2] = 0x7b; // a `{` inside the data's JSON text
    expect(describeCommit(badJson, 11)).toMatchObject({ kind: 'not-a-commit', code: 'STORE_CORRUPT_COMMIT', reason: expect.stringMatching(/^the record at log position 11 is not a valid commit: /) });
  });
});

describe('StreamsView', () => {
  it('the streams as the store has them: from the checkpoint and the records after it, or from the whole log when the checkpoint is missing, damaged or of another log; nothing written', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir });
    await store.appendToStream('a-1', [{ type: 't', data: 1 }, { type: 't', data: 2 }]);
    await store.appendToStream('b-1', [{ type: 't', data: 3 }]);
    await store.close(); // the checkpoint covers these
    const again = await openEventStore({ dir });
    const tail = await again.appendToStream('a-1', [{ type: 'u', data: 4 }]);
    await again.deleteStream('b-1');
    const expected = [
      { stream: 'a-1', version: 3, deleted: false, lastGlobalPosition: tail.globalPosition },
      { stream: 'b-1', version: 0, deleted: true, lastGlobalPosition: null },
    ];
    const reader = await Journal.openForRead({ dir });
    try {
      const view = StreamsView.open(reader, { dir });
      expect(view.source).toBe('checkpoint');
      expect(view.recordsRead).toBe(2); // the tail only
      expect(view.list()).toEqual(expected);
      expect(view.list('b-')).toEqual([expected[1]]);
      expect([...view.events('a-1')].map((e) => [e.streamPosition, e.type, e.data])).toEqual([
        [1, 't', 1],
        [2, 't', 2],
        [3, 'u', 4],
      ]);
      expect([...view.events('b-1')]).toEqual([]);
      expect(() => view.summaryOf('c-1')).toThrow(expect.objectContaining({ code: 'STORE_STREAM_NOT_FOUND' }));
      expect(() => view.summaryOf('no good')).toThrow(expect.objectContaining({ code: 'STORE_INVALID_STREAM_NAME' }));
      // a damaged checkpoint: the whole log is read, the same streams come out
      writeFileSync(checkpointPath(dir), 'damaged');
      const rebuilt = StreamsView.open(reader, { dir });
      expect(rebuilt.source).toBe('damaged');
      expect(rebuilt.recordsRead).toBe(4);
      expect(rebuilt.list()).toEqual(expected);
    } finally {
      await reader.close();
      await again.close();
    }
  });
});
