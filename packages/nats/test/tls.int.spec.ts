import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { ClusterEventStore, NatsLog, runRelay } from '../src/index.js';
import { snapshotDir } from '../../wal/test/helpers.js';
import { CLUSTER_TEST_TIMEOUT, readerOf, refusal, skipReason, useCluster } from './helpers.js';
import { makeTestCertificates, opensslMissing } from './tlsCertificates.js';

const missing = skipReason ?? opensslMissing();
const certs = missing === undefined ? makeTestCertificates() : undefined;

describe.skipIf(missing !== undefined)('a cluster that requires TLS and verifies client certificates', () => {
  const { cluster, nc } = useCluster({
    // every client must present a certificate this CA signed (mutual TLS), over a server certificate for 127.0.0.1
    extraConfig: certs ? `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.caFile}", verify: true, timeout: 5 }` : '',
    ...(certs ? { tls: { caFile: certs.caFile, certFile: certs.clientCert, keyFile: certs.clientKey } } : {}),
  });
  const trusted = () => ({ caFile: certs!.caFile, certFile: certs!.clientCert, keyFile: certs!.clientKey });

  it('the relay, the read side and the store work over TLS with the CA and a client certificate', async () => {
    const journal = await readerOf(40);
    const servers = cluster().servers;
    expect((await runRelay(journal, { servers, stream: 'tls_relay', tls: trusted() })).shipped).toBe(40);
    const log = await NatsLog.open({ servers, stream: 'tls_relay', tls: trusted() });
    try {
      expect(log.countRecords(0)).toBe(40);
      const [first] = log.readMany(0, 1);
      expect(Buffer.from(first!.payload)).toEqual(Buffer.from(journal.readMany(0, 1)[0]!.payload));
    } finally {
      await log.close();
    }
    const store = await ClusterEventStore.open({ servers, stream: 'tls_store', tls: trusted() });
    try {
      expect((await store.appendToStream('s-1', [{ type: 'T', data: { over: 'tls' } }])).nextExpectedVersion).toBe(1);
      expect((await store.readStream('s-1')).events[0]!.data).toEqual({ over: 'tls' });
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT);

  it('an unknown server CA, no client certificate, or one from another CA fail fast with a typed error and write nothing', async () => {
    const journal = await readerOf(10);
    const before = snapshotDir(journal.dir);
    const servers = cluster().servers;
    // the server's certificate is not signed by the CA the client trusts
    const wrongCa = await refusal(runRelay(journal, { servers, stream: 'tls_refused', tls: { caFile: certs!.otherCaFile, certFile: certs!.clientCert, keyFile: certs!.clientKey }, timeoutMs: 5_000 }));
    expect(wrongCa.code).toBe('NATS_TLS_FAILED');
    expect(wrongCa.message).toContain(servers[0]!);
    // no TLS options at all against a cluster that requires TLS
    const plain = await refusal(ClusterEventStore.open({ servers, stream: 'tls_refused', timeoutMs: 5_000 }));
    expect(['NATS_TLS_FAILED', 'NATS_UNREACHABLE']).toContain(plain.code);
    // a client certificate the cluster's CA did not sign
    const stranger = await refusal(NatsLog.open({ servers, stream: 'tls_refused', tls: { caFile: certs!.caFile, certFile: certs!.strangerCert, keyFile: certs!.strangerKey }, timeoutMs: 5_000 }));
    expect(['NATS_TLS_FAILED', 'NATS_UNREACHABLE']).toContain(stranger.code);
    expect(snapshotDir(journal.dir)).toEqual(before);
    // nothing reached the cluster either: the refused stream was never created
    const names: string[] = [];
    for await (const name of (await jetstreamManager(nc())).streams.names()) names.push(name);
    expect(names).not.toContain('tls_refused');
  }, CLUSTER_TEST_TIMEOUT);
});
