import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEventDecoder, isStoreError, openEventStore, StoreErrorCodes, type StoreErrorCode } from '../src/index.js';
import { snapshot, tempDir } from './helpers.js';

const ok = [{ type: 't', data: 1 }];
const circular: Record<string, unknown> = {};
circular.self = circular;

const cases: Array<[string, StoreErrorCode, (s: Awaited<ReturnType<typeof openEventStore>>) => Promise<unknown>]> = [
  ['an empty stream name', 'STORE_INVALID_STREAM_NAME', (s) => s.appendToStream('', ok)],
  ['a name of 201 characters', 'STORE_INVALID_STREAM_NAME', (s) => s.appendToStream('a'.repeat(201), ok)],
  ['a name with a space', 'STORE_INVALID_STREAM_NAME', (s) => s.appendToStream('order 1', ok)],
  ['a name with a NUL', 'STORE_INVALID_STREAM_NAME', (s) => s.appendToStream('order\0', ok)],
  ['a name with ..', 'STORE_INVALID_STREAM_NAME', (s) => s.appendToStream('../etc', ok)],
  ['the reserved $ prefix', 'STORE_INVALID_STREAM_NAME', (s) => s.appendToStream('$all', ok)],
  ['a name that is not a string', 'STORE_INVALID_STREAM_NAME', (s) => s.appendToStream(42 as unknown as string, ok)],
  ['an empty commit', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [])],
  ['events that are not an array', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', { type: 't' } as never)],
  ['an event without a type', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ data: 1 } as never])],
  ['a BigInt in the data', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [...ok, { type: 't', data: { n: 1n } }])],
  ['circular data', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ type: 't', data: circular }])],
  ['undefined data', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ type: 't', data: undefined }])],
  ['a function as data', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ type: 't', data: () => 1 }])],
  ['metadata that is an array', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ type: 't', data: 1, metadata: [] as never }])],
  // objects whose JSON is not an object: they would read back as a string or a number
  ['metadata that is a Date', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ type: 't', data: 1, metadata: new Date(0) as never }])],
  ['metadata whose toJSON gives a number', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ type: 't', data: 1, metadata: { toJSON: () => 42 } }])],
  ['an id twice in one commit', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ id: 'x', type: 't', data: 1 }, { id: 'x', type: 't', data: 2 }])],
  ['an empty id', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ id: '', type: 't', data: 1 }])],
  ['an id of 256 bytes', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', [{ id: 'i'.repeat(256), type: 't', data: 1 }])],
  ['expectedVersion latest', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { expectedVersion: 'latest' as never })],
  ['expectedVersion -1', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { expectedVersion: -1 })],
  ['expectedVersion 1.5', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { expectedVersion: 1.5 })],
  ['expectedVersion NaN', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { expectedVersion: Number.NaN })],
  ['expectedVersion as a string number', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { expectedVersion: '3' as never })],
  // a BigInt is refused by JSON.stringify: the message quoting it must not turn the typed error into a TypeError
  ['expectedVersion as a BigInt', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { expectedVersion: 1n as never })],
  ['deleteStream with a BigInt expected version', 'STORE_INVALID_ARGUMENT', (s) => s.deleteStream('s', { expectedVersion: 1n as never })],
  ['an oversized commit', 'STORE_COMMIT_TOO_LARGE', (s) => s.appendToStream('s', [{ type: 't', data: 'x'.repeat(5000) }])],
  ['many events over the limit together', 'STORE_COMMIT_TOO_LARGE', (s) => s.appendToStream('s', Array.from({ length: 100 }, () => ({ type: 't', data: 'y'.repeat(60) })))],
  ['readStream from -1', 'STORE_INVALID_ARGUMENT', (s) => s.readStream('s', { from: -1 })],
  ['readStream maxCount 2.5', 'STORE_INVALID_ARGUMENT', (s) => s.readStream('s', { maxCount: 2.5 })],
  ['readStream of a bad name', 'STORE_INVALID_STREAM_NAME', (s) => s.readStream('a b')],
  ['aggregateStream without evolve', 'STORE_INVALID_ARGUMENT', (s) => s.aggregateStream('s', { initialState: () => 0 } as never)],
  ['recreate that is not a boolean', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { recreate: 'yes' as never })],
  ['deleteStream with options that are not an object', 'STORE_INVALID_ARGUMENT', (s) => s.deleteStream('s', 1 as never)],
  ['deleteStream with null options', 'STORE_INVALID_ARGUMENT', (s) => s.deleteStream('s', null as never)],
  // a misspelt option would otherwise mean "no expected version": the check silently off
  ['appendToStream with a misspelt expectedVersion', 'STORE_INVALID_ARGUMENT', (s) => s.appendToStream('s', ok, { expectedVersoin: 7 } as never)],
  ['deleteStream with an unknown option', 'STORE_INVALID_ARGUMENT', (s) => s.deleteStream('s', { expected: 1 } as never)],
  ['readStream with an unknown option', 'STORE_INVALID_ARGUMENT', (s) => s.readStream('s', { form: 2 } as never)],
  ['readStream with a BigInt from', 'STORE_INVALID_ARGUMENT', (s) => s.readStream('s', { from: 1n } as never)],
  ['aggregateStream with an unknown option', 'STORE_INVALID_ARGUMENT', (s) => s.aggregateStream('s', { initialState: () => 0, evolve: (x: number) => x, upTo: 1 } as never)],
  ['deleteStream with a bad expected version', 'STORE_INVALID_ARGUMENT', (s) => s.deleteStream('s', { expectedVersion: 'x' as never })],
];

describe('bad input', () => {
  it('gets a typed error for each case, and nothing is written', async () => {
    const dir = tempDir();
    const store = await openEventStore({ dir, maxPayloadBytes: 4096 });
    await store.appendToStream('s', [{ type: 't', data: 'before' }]);
    await store.checkpoint();
    const before = snapshot(dir);
    for (const [name, code, call] of cases) {
      const err = await call(store).then(() => undefined, (e: unknown) => e);
      expect(isStoreError(err, code), `${name}: ${String(err)}`).toBe(true);
      expect((err as { category: string }).category, name).toBe('invalid-input');
    }
    expect(snapshot(dir)).toEqual(before);
    expect((await store.readStream('s')).currentVersion).toBe(1);
    await store.close();
  });

  it('refuses bad store options before opening anything', async () => {
    const dir = tempDir();
    for (const options of [{ idempotencyWindow: -1 }, { checkpointEvery: 0 }, { checkpointEvery: 5n }, { upcasters: { t: 'no' } }, { onWarning: 1 }, { checkpointEvry: 5 }, { archveDir: '/tmp/x' }]) {
      const err = await openEventStore({ dir, ...(options as object) }).catch((e: unknown) => e);
      expect(isStoreError(err, StoreErrorCodes.InvalidArgument), `${Object.keys(options).join()}: ${String(err)}`).toBe(true);
    }
    expect(readdirSync(dir)).toEqual([]);
    // a misspelt key is named, with the keys the store takes (its own and the journal's)
    const err = await openEventStore({ dir, checkpointEvry: 5 } as object as { dir: string }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/openEventStore has no option "checkpointEvry" \(it takes "idempotencyWindow", "checkpointEvery", "upcasters", "onWarning", "dir", "durability"/);
  });

  it('refuses an event filter with a BigInt prefix with a typed error', () => {
    let err: unknown;
    try {
      createEventDecoder({ filter: { streamPrefix: 5n as never } });
    } catch (e) {
      err = e;
    }
    expect(isStoreError(err, StoreErrorCodes.InvalidArgument), String(err)).toBe(true);
    expect((err as Error).message).toContain('5n');
  });

  it('rejects every call after close with STORE_CLOSED', async () => {
    const store = await openEventStore({ dir: tempDir() });
    await store.close();
    for (const p of [store.appendToStream('s', ok), store.readStream('s'), store.streamExists('s'), store.deleteStream('s')]) {
      expect(isStoreError(await p.catch((e: unknown) => e), StoreErrorCodes.Closed)).toBe(true);
    }
    await store.close(); // a second close is the same promise
  });
});

describe('a journal that holds other records', () => {
  it('is refused with STORE_CORRUPT_COMMIT naming the record, and the journal is released', async () => {
    const { Journal } = await import('@episteme/wal');
    const dir = tempDir();
    const journal = await Journal.open({ dir });
    await journal.append(Buffer.from('{"type":"not a commit"}'));
    await journal.close();
    const err = await openEventStore({ dir }).catch((e: unknown) => e);
    expect(isStoreError(err, StoreErrorCodes.CorruptCommit)).toBe(true);
    expect((err as Error).message).toContain('log position 0');
    await (await Journal.open({ dir })).close(); // not locked by the failed open
  });
});
