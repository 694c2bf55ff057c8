import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getEpistemeEventStore, isEmmettAdapterError, type EpistemeEventStore } from '../src/index.js';
import { loadPeer } from '../src/cluster/loadPeer.js';
import { snapshotDir, tempDir } from './helpers.js';

const opened: EpistemeEventStore[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

const added = { type: 'Added', data: { n: 1 } };

describe('bad input to the adapter', () => {
  const badOptions: Array<[string, unknown]> = [
    ['no options', undefined],
    ['a string', '/tmp/x'],
    ['no dir', {}],
    ['an empty dir', { dir: '' }],
    ['a store that is not one', { store: { appendToStream: () => undefined } }],
    ['hooks.onAfterCommit not a function', { hooks: { onAfterCommit: 3 } }],
    ['a misspelt hook', { dir: '/nonexistent/never-made', hooks: { onAfterComit: () => undefined } }],
    ['consumers beside dir', { dir: '/nonexistent/never-made', consumers: {} }],
    ['nats beside dir', { dir: '/nonexistent/never-made', nats: { servers: ['nats://127.0.0.1:1'], stream: 'carts' } }],
    ['nats beside store', { nats: { servers: ['nats://127.0.0.1:1'], stream: 'carts' }, store: {} }],
    ['nats that is not an options object', { nats: 'nats://127.0.0.1:4222' }],
    ['an empty nats.cursorBucket', { nats: { servers: ['nats://127.0.0.1:1'], stream: 'carts', cursorBucket: '' } }],
    ['consumers that are not a registry and a decoder', { store: { appendToStream() {}, readStream() {}, aggregateStream() {}, streamExists() {}, readAll() {}, close() {} }, consumers: { registry: {} } }],
  ];
  for (const [what, options] of badOptions) {
    it(`refuses ${what} with EMMETT_INVALID_ARGUMENT`, async () => {
      const err = await getEpistemeEventStore(options as never).catch((e: unknown) => e);
      expect(isEmmettAdapterError(err, 'EMMETT_INVALID_ARGUMENT'), String(err)).toBe(true);
    });
  }

  it('a misspelt hook is named with the hooks taken (it would never be called)', async () => {
    const err = await getEpistemeEventStore({ dir: '/nonexistent/never-made', hooks: { onAfterComit: () => undefined } } as never).catch((e: unknown) => e);
    expect((err as Error).message).toBe('hooks has no option "onAfterComit" (it takes "onAfterCommit")');
  });

  it('creates nothing on disk when the options are refused', async () => {
    const parent = tempDir();
    const dir = join(parent, 'store');
    for (const options of [{ dir, hooks: { onAfterCommit: 'no' } }, { dir, hooks: { onAfterComit: () => undefined } }, { dir, store: {} }]) {
      const err = await getEpistemeEventStore(options as never).catch((e: unknown) => e);
      expect(isEmmettAdapterError(err, 'EMMETT_INVALID_ARGUMENT'), String(err)).toBe(true);
      expect(existsSync(dir)).toBe(false);
    }
    // an option of the store's own is the store's typed error, also before anything is created
    const err = await getEpistemeEventStore({ dir, idempotencyWindow: -1 }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('STORE_INVALID_ARGUMENT');
    expect(existsSync(dir)).toBe(false);
  });

  const badCalls: Array<[string, (s: EpistemeEventStore) => Promise<unknown>]> = [
    ['an expected version that is a number', (s) => s.appendToStream('b-1', [added], { expectedStreamVersion: 1 as never })],
    ['a negative expected version', (s) => s.appendToStream('b-1', [added], { expectedStreamVersion: -1n })],
    ['an unknown expected version string', (s) => s.appendToStream('b-1', [added], { expectedStreamVersion: 'ANY' as never })],
    ['events that are not an array', (s) => s.appendToStream('b-1', added as never)],
    ['an event without a type', (s) => s.appendToStream('b-1', [{ data: {} }] as never)],
    ['a messageId that is not a string', (s) => s.appendToStream('b-1', [{ ...added, metadata: { messageId: 7 } }] as never)],
    ['a negative from', (s) => s.readStream('b-1', { from: -1n })],
    ['a to that is a string', (s) => s.readStream('b-1', { to: '3' as never })],
    ['a read expected version that is a number', (s) => s.readStream('b-1', { expectedStreamVersion: 2 as never })],
    ['aggregateStream without evolve', (s) => s.aggregateStream('b-1', { initialState: () => 0 } as never)],
    ['a consumer batch size of 0', async (s) => s.consumer({ pulling: { batchSize: 0 } })],
  ];
  for (const [what, call] of badCalls) {
    it(`refuses ${what} with EMMETT_INVALID_ARGUMENT and writes nothing`, async () => {
      const dir = tempDir();
      const store = await getEpistemeEventStore({ dir });
      opened.push(store);
      await store.appendToStream('b-1', [added, added]);
      await store.store.close();
      // reopen: the snapshot is taken with the store open and idle, as the call will find it
      opened.pop();
      const again = await getEpistemeEventStore({ dir });
      opened.push(again);
      const before = snapshotDir(dir);
      const err = await call(again).catch((e: unknown) => e);
      expect(isEmmettAdapterError(err, 'EMMETT_INVALID_ARGUMENT'), String(err)).toBe(true);
      expect(snapshotDir(dir)).toEqual(before);
      expect((await again.readStream('b-1')).currentStreamVersion).toBe(2n);
    });
  }

  it('an optional peer that is not installed: EMMETT_PEER_MISSING naming the package and how to install it; other import failures pass through', async () => {
    const missing = '@episteme/not-installed-peer';
    const err = await loadPeer(missing, 'getEpistemeEventStore({ nats })', () => import(/* @vite-ignore */ missing)).catch((e: unknown) => e);
    expect(isEmmettAdapterError(err, 'EMMETT_PEER_MISSING'), String(err)).toBe(true);
    expect((err as Error).message).toContain(`npm install ${missing}`);
    const broken = new Error('SyntaxError in a dependency');
    expect(await loadPeer('@episteme/nats', 'x', () => Promise.reject(broken)).catch((e: unknown) => e)).toBe(broken);
    expect(await loadPeer('@episteme/nats', 'x', async () => 'loaded')).toBe('loaded');
  });
});
