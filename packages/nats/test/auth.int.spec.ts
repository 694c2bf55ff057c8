import { describe, expect, it } from 'vitest';
import { createUser } from '@nats-io/nkeys';
import { ClusterEventStore, NatsLog, runRelay } from '../src/index.js';
import { snapshotDir } from '../../wal/test/helpers.js';
import { CLUSTER_TEST_TIMEOUT, readerOf, refusal, skipReason, useCluster } from './helpers.js';

const nkeyUser = createUser();
const seed = new TextDecoder().decode(nkeyUser.getSeed());
const otherSeed = new TextDecoder().decode(createUser().getSeed());

describe.skipIf(skipReason !== undefined)('a cluster with authorization: user/password and an NKey user', () => {
  const { cluster } = useCluster({
    extraConfig: `authorization { users: [ { user: alice, password: s3cret-pass }, { nkey: ${nkeyUser.getPublicKey()} } ] }`,
    auth: { user: 'alice', pass: 's3cret-pass' },
  });

  it('the relay, the read side and the store work with the right credentials', async () => {
    const journal = await readerOf(50);
    const servers = cluster().servers;
    expect((await runRelay(journal, { servers, stream: 'auth_relay', user: 'alice', pass: 's3cret-pass' })).shipped).toBe(50);
    const log = await NatsLog.open({ servers, stream: 'auth_relay', nkeySeed: seed });
    try {
      expect(log.countRecords(0)).toBe(50);
    } finally {
      await log.close();
    }
    const store = await ClusterEventStore.open({ servers, stream: 'auth_store', nkeySeed: seed });
    try {
      expect((await store.appendToStream('s-1', [{ type: 'T', data: {} }])).nextExpectedVersion).toBe(1);
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT);

  it('wrong credentials fail fast with NATS_AUTH_REFUSED, name no secret, and change nothing', async () => {
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    const servers = cluster().servers;
    const wrongPass = await refusal(runRelay(journal, { servers, stream: 'auth_refused', user: 'alice', pass: 'wrong-pass-value' }));
    expect(wrongPass.code).toBe('NATS_AUTH_REFUSED');
    expect(wrongPass.message).not.toContain('wrong-pass-value');
    const none = await refusal(runRelay(journal, { servers, stream: 'auth_refused' }));
    expect(none.code).toBe('NATS_AUTH_REFUSED');
    const wrongKey = await refusal(ClusterEventStore.open({ servers, stream: 'auth_refused', nkeySeed: otherSeed }));
    expect(wrongKey.code).toBe('NATS_AUTH_REFUSED');
    expect(wrongKey.message).not.toContain(otherSeed);
    expect(snapshotDir(journal.dir)).toEqual(before);
  }, CLUSTER_TEST_TIMEOUT);
});
