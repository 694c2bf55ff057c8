/**
 * `episteme relay` and `--nats`: the app's journal shipped into a JetStream
 * cluster, its lag in `consumers list`, and `beliefs`/`stats` answered from
 * the relayed stream on a machine without the journal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { natsSkipReason, TestCluster } from '@episteme/nats/testing';
import { afterAll, beforeAll } from 'vitest';
import { cli, json, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

const skipReason = natsSkipReason();
const assertArgs = (id: string, subject: string, object: string, confidence: string) => ['assert', '--subject', subject, '--predicate', 'orbits', '--object', object, '--confidence', confidence, '--id', id];

describe.skipIf(skipReason !== undefined)('the app on a NATS JetStream cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ readyTimeoutMs: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('relay ships every commit once; consumers list shows its lag; beliefs and stats with --nats answer as the journal does', async () => {
    const data = tempDir();
    for (const [id, subject, object, confidence] of [
      ['a1', 'earth', 'sun', '0.9'],
      ['a2', 'earth', 'moon', '0.2'],
      ['a3', 'mars', 'sun', '0.8'],
    ] as const) {
      expect((await cli(['--data', data, ...assertArgs(id, subject, object, confidence)])).code).toBe(0);
    }
    const nats = cluster.servers.join(',');
    const relayed = await cli(['--data', data, '--json', '--nats', nats, 'relay', '--stream', 'app_relay']);
    expect(relayed.code, relayed.stderr).toBe(0);
    expect(json<{ shipped: number }>(relayed.stdout).shipped).toBe(3);
    expect((await cli(['--data', data, 'retract', 'a2', '--reason', 'wrong'])).code).toBe(0);
    const listed = json<Array<{ name: string; lagRecords: number }>>((await cli(['--data', data, '--json', 'consumers', 'list'])).stdout);
    expect(listed.find((c) => c.name === 'relay-app_relay')?.lagRecords).toBe(1);
    expect(json<{ shipped: number }>((await cli(['--data', data, '--json', 'relay', '--stream', 'app_relay'], { EPISTEME_NATS: nats })).stdout).shipped).toBe(1);

    // another machine: no data directory, only the cluster
    const elsewhere = tempDir();
    const before = snapshotTree(elsewhere);
    const local = json<Record<string, unknown>>((await cli(['--data', data, '--json', 'stats'])).stdout);
    const remote = await cli(['--data', elsewhere, '--json', '--nats', nats, '--nats-stream', 'app_relay', 'stats']);
    expect(remote.code, remote.stderr).toBe(0);
    const { checkpoint: _l, ...localStats } = local;
    const { checkpoint, ...remoteStats } = json<Record<string, unknown>>(remote.stdout);
    expect(remoteStats).toEqual(localStats);
    expect(checkpoint).toBe(4 * 65_536); // four commits: the position after the stream's 4th message
    const withoutPositions = (r: { assertions: Array<Record<string, unknown>>; best: Record<string, Record<string, unknown>> }) => ({
      assertions: r.assertions.map(({ globalPosition: _, ...a }) => a),
      best: Object.fromEntries(Object.entries(r.best).map(([k, { globalPosition: _, ...b }]) => [k, b])),
    });
    const localBeliefs = json<Parameters<typeof withoutPositions>[0]>((await cli(['--data', data, '--json', 'beliefs', 'earth'])).stdout);
    const remoteBeliefs = json<Parameters<typeof withoutPositions>[0]>((await cli(['--data', elsewhere, '--json', 'beliefs', 'earth'], { EPISTEME_NATS: nats, EPISTEME_NATS_STREAM: 'app_relay' })).stdout);
    expect(withoutPositions(remoteBeliefs)).toEqual(withoutPositions(localBeliefs));
    expect(remoteBeliefs.assertions.map((a) => a.id)).toEqual(['a1']);
    expect(snapshotTree(elsewhere)).toEqual(before);
  }, 240_000);

  it('assert and retract with --nats append to the event store on the cluster; queries fold it; an id in use is refused as on the journal', async () => {
    const nowhere = tempDir();
    const env = { EPISTEME_NATS: cluster.servers.join(','), EPISTEME_NATS_STREAM: 'app_store' };
    const first = await cli(['--data', nowhere, '--json', ...assertArgs('c1', 'venus', 'sun', '0.7')], env);
    expect(first.code, first.stderr).toBe(0);
    expect(json<{ version: number }>(first.stdout).version).toBe(1);
    expect((await cli(['--data', nowhere, ...assertArgs('c2', 'venus', 'moon', '0.1')], env)).code).toBe(0);
    const again = await cli(['--data', nowhere, '--json', ...assertArgs('c1', 'venus', 'mars', '0.5')], env);
    // the same refusal as on an embedded journal
    const local = tempDir();
    await cli(['--data', local, ...assertArgs('c1', 'venus', 'sun', '0.7')]);
    const localAgain = await cli(['--data', local, '--json', ...assertArgs('c1', 'venus', 'mars', '0.5')]);
    expect(again.code).toBe(localAgain.code);
    expect(json<{ error: { code: string } }>(again.stdout).error.code).toBe(json<{ error: { code: string } }>(localAgain.stdout).error.code);
    expect((await cli(['--data', nowhere, 'retract', 'c2', '--reason', 'wrong'], env)).code).toBe(0);
    const stats = json<{ assertions: number; retractions: number }>((await cli(['--data', nowhere, '--json', 'stats'], env)).stdout);
    expect(stats).toMatchObject({ assertions: 2, retractions: 1 });
    const beliefs = json<{ assertions: Array<{ id: string }> }>((await cli(['--data', nowhere, '--json', 'beliefs', 'venus'], env)).stdout);
    expect(beliefs.assertions.map((a) => a.id)).toEqual(['c1']);
    expect(snapshotTree(nowhere)).toEqual({});
  }, 240_000);

  it('refuses relay without a cluster or a stream, and an unreachable cluster, with exit 2/1 and nothing written', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('b1', 'earth', 'sun', '0.5')])).code).toBe(0);
    const before = snapshotTree(data);
    const noCluster = await cli(['--data', data, 'relay', '--stream', 's']);
    expect(noCluster.code).toBe(2);
    expect(noCluster.stderr).toContain('--nats');
    const noStream = await cli(['--data', data, '--nats', cluster.servers.join(','), 'relay']);
    expect(noStream.code).toBe(2);
    expect(noStream.stderr).toContain('--stream');
    const unreachable = await cli(['--data', data, '--json', '--nats', 'nats://127.0.0.1:1', 'relay', '--stream', 's']);
    expect(unreachable.code).toBe(1);
    expect(json<{ error: { code: string } }>(unreachable.stdout).error.code).toBe('NATS_UNREACHABLE');
    const notThere = await cli(['--data', data, '--nats', cluster.servers.join(','), 'consumers', 'list']);
    expect(notThere.code).toBe(2);
    expect(notThere.stderr).toContain('local journal only');
    expect(snapshotTree(data)).toEqual(before);
  }, 240_000);
});
