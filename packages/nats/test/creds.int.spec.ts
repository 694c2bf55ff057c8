import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { ClusterEventStore, NatsLog, runRelay } from '../src/index.js';
import { snapshotDir } from '../../wal/test/helpers.js';
import { CLUSTER_TEST_TIMEOUT, readerOf, refusal, skipReason, useCluster } from './helpers.js';
import { makeOperatorSetup } from './operatorCredentials.js';

// the JWTs are made before the cluster starts: its configuration names the operator and the accounts
const setup = skipReason === undefined ? await makeOperatorSetup() : undefined;

describe.skipIf(skipReason !== undefined)('an operator-mode cluster (decentralized JWT auth): users connect with .creds files', () => {
  const { cluster, nc } = useCluster({ extraConfig: setup?.serverConfig ?? '', ...(setup ? { credsFile: setup.credsFile } : {}) });

  it('the relay, the read side and the store work with the .creds of a user of the app account', async () => {
    const journal = await readerOf(30);
    const servers = cluster().servers;
    expect((await runRelay(journal, { servers, stream: 'creds_relay', credsFile: setup!.credsFile })).shipped).toBe(30);
    const log = await NatsLog.open({ servers, stream: 'creds_relay', credsFile: setup!.credsFile });
    try {
      expect(log.countRecords(0)).toBe(30);
    } finally {
      await log.close();
    }
    const store = await ClusterEventStore.open({ servers, stream: 'creds_store', credsFile: setup!.credsFile });
    try {
      expect((await store.appendToStream('s-1', [{ type: 'T', data: { via: 'creds' } }])).nextExpectedVersion).toBe(1);
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT);

  it('creds of an unknown account, forged creds, or a missing file are refused with a typed error naming no secret, and nothing is written', async () => {
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    const servers = cluster().servers;
    const unknown = await refusal(runRelay(journal, { servers, stream: 'creds_refused', credsFile: setup!.unknownAccountCredsFile, timeoutMs: 5_000 }));
    expect(unknown.code).toBe('NATS_AUTH_REFUSED');
    const forged = await refusal(ClusterEventStore.open({ servers, stream: 'creds_refused', credsFile: setup!.forgedCredsFile, timeoutMs: 5_000 }));
    expect(forged.code).toBe('NATS_AUTH_REFUSED');
    const missing = await refusal(NatsLog.open({ servers, stream: 'creds_refused', credsFile: `${setup!.credsFile}.missing` }));
    expect(missing.code).toBe('NATS_INVALID_ARGUMENT');
    for (const error of [unknown, forged, missing]) expect(error.message).not.toMatch(/SU[A-Z0-9]{20,}|eyJ/);
    expect(snapshotDir(journal.dir)).toEqual(before);
    const names: string[] = [];
    for await (const name of (await jetstreamManager(nc())).streams.names()) names.push(name);
    expect(names).not.toContain('creds_refused');
  }, CLUSTER_TEST_TIMEOUT);
});
