import { describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { jetStreamHandles } from '../src/handles.js';
import { NatsLog, openEventStore, runRelay } from '../src/index.js';
import { snapshotDir } from '../../wal/test/helpers.js';
import { CLUSTER_TEST_TIMEOUT, addStream, readerOf, refusal, skipReason, streamContents, useCluster } from './helpers.js';

describe.skipIf(skipReason !== undefined)('relay: bad input is refused with a typed error, nothing written', () => {
  const { cluster, nc } = useCluster();

  it('unreachable servers: NATS_UNREACHABLE, the journal directory unchanged', async () => {
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    const error = await refusal(runRelay(journal, { servers: ['nats://127.0.0.1:1'], stream: 'nowhere', timeoutMs: 2_000 }));
    expect(error.code).toBe('NATS_UNREACHABLE');
    expect(error.message).toContain('127.0.0.1:1');
    expect(snapshotDir(journal.dir)).toEqual(before);
  }, CLUSTER_TEST_TIMEOUT);

  it('bad names, no servers: NATS_INVALID_ARGUMENT before any connection', async () => {
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    expect((await refusal(runRelay(journal, { servers: cluster().servers, stream: 'a.b' }))).code).toBe('NATS_INVALID_ARGUMENT');
    expect((await refusal(runRelay(journal, { servers: cluster().servers, stream: 'ok', subject: 'x.>' }))).code).toBe('NATS_INVALID_ARGUMENT');
    expect((await refusal(runRelay(journal, { servers: [], stream: 'ok' }))).code).toBe('NATS_INVALID_ARGUMENT');
    expect(snapshotDir(journal.dir)).toEqual(before);
  }, CLUSTER_TEST_TIMEOUT);

  it('a misspelt option (it would have been its default, silently): NATS_INVALID_ARGUMENT naming it, before any connection', async () => {
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    const relay = await refusal(runRelay(journal, { servers: cluster().servers, stream: 'ok', folow: true } as never));
    expect(relay).toMatchObject({ code: 'NATS_INVALID_ARGUMENT', message: expect.stringContaining('runRelay has no option "folow"') });
    const log = await refusal(NatsLog.open({ servers: cluster().servers, stream: 'ok', cursorBuckt: 'x' } as never));
    expect(log).toMatchObject({ code: 'NATS_INVALID_ARGUMENT', message: expect.stringContaining('NatsLog.open has no option "cursorBuckt"') });
    const store = await refusal(openEventStore({ nats: { servers: cluster().servers, stream: 'ok', subjectPrefx: 'x' } as never }));
    expect(store).toMatchObject({ code: 'NATS_INVALID_ARGUMENT', message: expect.stringContaining('has no option "subjectPrefx"') });
    expect(snapshotDir(journal.dir)).toEqual(before);
    const { jsm } = await jetStreamHandles(nc());
    await expect(jsm.streams.info('ok')).rejects.toThrow(); // nothing was created in the cluster
  }, CLUSTER_TEST_TIMEOUT);

  it('a stream with another subject layout: NATS_STREAM_LAYOUT, the stream unchanged', async () => {
    const { jsm } = await jetStreamHandles(nc());
    await addStream(nc(), { name: 'other_layout', subjects: ['orders.>'], num_replicas: 3 });
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    const error = await refusal(runRelay(journal, { servers: cluster().servers, stream: 'other_layout' }));
    expect(error.code).toBe('NATS_STREAM_LAYOUT');
    expect(error.message).toContain('orders.>');
    const info = await jsm.streams.info('other_layout');
    expect(info.config.subjects).toEqual(['orders.>']);
    expect(info.state.messages).toBe(0);
    expect(snapshotDir(journal.dir)).toEqual(before);
  }, CLUSTER_TEST_TIMEOUT);

  it('a stream whose last message lacks our headers: NATS_FOREIGN_MESSAGE, nothing written', async () => {
    const { jsm } = await jetStreamHandles(nc());
    await addStream(nc(), { name: 'foreign', subjects: ['episteme.foreign'], num_replicas: 3 });
    await jetstream(nc()).publish('episteme.foreign', 'not a relayed record');
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    const error = await refusal(runRelay(journal, { servers: cluster().servers, stream: 'foreign' }));
    expect(error.code).toBe('NATS_FOREIGN_MESSAGE');
    expect((await jsm.streams.info('foreign')).state.messages).toBe(1);
    expect(snapshotDir(journal.dir)).toEqual(before);
  }, CLUSTER_TEST_TIMEOUT);

  it('a stream that holds another, longer journal: NATS_STREAM_AHEAD, nothing written', async () => {
    const longer = await readerOf(500, { seed: 1 });
    await runRelay(longer, { servers: cluster().servers, stream: 'taken' });
    const shorter = await readerOf(10, { seed: 2 });
    const before = snapshotDir(shorter.dir);
    const error = await refusal(runRelay(shorter, { servers: cluster().servers, stream: 'taken' }));
    expect(error.code).toBe('NATS_STREAM_AHEAD');
    expect((await streamContents(nc(), 'taken')).length).toBe(500);
    expect(snapshotDir(shorter.dir)).toEqual(before);
  }, CLUSTER_TEST_TIMEOUT);
});
