import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterEventStore } from '../src/index.js';
import { streamLeader } from '../src/testing/index.js';
import { spawnChild } from '../../wal/test/children/spawn.js';
import { CLUSTER_TEST_TIMEOUT, refusal, skipReason, useCluster } from './helpers.js';

const APPENDER = join(import.meta.dirname, 'children', 'clusterAppender.ts');

describe.skipIf(skipReason !== undefined)('the cluster store with several processes and a failover', () => {
  const { cluster, nc } = useCluster();

  it('two app processes appending to the same streams with expected versions: dense versions, one winner per version, conflicts typed', async () => {
    const servers = cluster().servers.join(',');
    const rounds = 150;
    const goFile = join(await mkdtemp(join(tmpdir(), 'episteme-race-')), 'go');
    const [a, b] = ['p1', 'p2'].map((name) => spawnChild(APPENDER, [servers, 'store_two', name, String(rounds), '3', goFile]));
    await Promise.all([a!, b!].map((c) => c.waitFor((l) => l === 'ready', 120_000)));
    await writeFile(goFile, '');
    const [doneA, doneB] = await Promise.all([a!, b!].map((c) => c.waitFor((l) => l.startsWith('done'), 200_000)));
    const wins = Number(doneA!.split(' ')[1]) + Number(doneB!.split(' ')[1]);
    const conflicts = Number(doneA!.split(' ')[2]) + Number(doneB!.split(' ')[2]);
    expect(wins + conflicts).toBe(2 * rounds);
    expect(conflicts).toBeGreaterThan(0); // they did race
    const won = [...a!.lines, ...b!.lines].filter((l) => l.startsWith('won')).map((l) => l.split(' '));
    const store = await ClusterEventStore.open({ connection: nc(), stream: 'store_two' });
    try {
      let total = 0;
      for (let s = 0; s < 3; s++) {
        const { events, currentVersion } = await store.readStream(`account-${s}`);
        expect(events.map((e) => e.streamPosition)).toEqual(Array.from({ length: currentVersion }, (_, i) => i + 1));
        // each acknowledged append is there, at the version it was acknowledged with, once
        const ackedHere = won.filter((w) => w[1] === `account-${s}`);
        expect(ackedHere.length).toBe(currentVersion);
        for (const [, , version, id] of ackedHere) expect(events[Number(version) - 1]!.id).toBe(id);
        total += currentVersion;
      }
      expect(total).toBe(wins);
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT);

  it('a SIGKILL of the stream leader while appending: every acknowledged commit is there once, and appends continue', async () => {
    const store = await ClusterEventStore.open({ servers: cluster().servers, stream: 'store_failover', deadlineMs: 90_000 });
    const acked = new Map<string, number>();
    let killed: string | undefined;
    try {
      let version = 0;
      for (let i = 0; i < 400; i++) {
        if (i === 150) {
          killed = await streamLeader(nc(), 'store_failover');
          await cluster().kill(killed);
        }
        const result = await store.appendToStream('ledger', [{ type: 'Entry', data: { i }, id: `entry-${i}` }], { expectedVersion: version });
        version = result.nextExpectedVersion;
        acked.set(`entry-${i}`, version);
      }
      await cluster().restart(killed!);
      const { events } = await store.readStream('ledger');
      expect(events.map((e) => e.id)).toEqual([...acked.keys()]);
      expect(events.map((e) => e.streamPosition)).toEqual([...acked.values()]);
      expect((await store.appendToStream('ledger', [{ type: 'Entry', data: {} }], { expectedVersion: 400 })).nextExpectedVersion).toBe(401);
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT);

  it('a cluster without a quorum: an append retries until its deadline, then fails with NATS_UNAVAILABLE; it goes on once the quorum is back', async () => {
    const store = await ClusterEventStore.open({ servers: cluster().servers, stream: 'store_quorum', deadlineMs: 3_000 });
    try {
      await store.appendToStream('s', [{ type: 'Before', data: {}, id: 'q-0' }]);
      const leader = await streamLeader(nc(), 'store_quorum');
      const others = cluster().nodes.map((n) => n.name).filter((n) => n !== leader);
      // two of three gone: no quorum, whichever survives
      await cluster().kill(leader);
      await cluster().kill(others[0]!);
      const error = await refusal(store.appendToStream('s', [{ type: 'During', data: {}, id: 'q-1' }], { expectedVersion: 1 }));
      expect(error.code).toBe('NATS_UNAVAILABLE');
      await cluster().restart(leader);
      await cluster().restart(others[0]!);
      await streamLeader(nc(), 'store_quorum', 120_000);
      // the retry with the same id (by a store with a patient deadline: the new leader may still be settling):
      // the commit is there once, whether or not the refused call reached a quorum
      const patient = await ClusterEventStore.open({ servers: cluster().servers, stream: 'store_quorum', deadlineMs: 120_000 });
      try {
        const retried = await patient.appendToStream('s', [{ type: 'During', data: {}, id: 'q-1' }], { expectedVersion: 1 });
        expect(retried.nextExpectedVersion).toBe(2);
        expect((await patient.readStream('s')).events.map((e) => e.id)).toEqual(['q-0', 'q-1']);
      } finally {
        await patient.close();
      }
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT);
});
