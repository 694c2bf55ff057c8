import { runConsumer } from '@episteme/consumers';
import { InMemorySnapshotStore, ProjectionEngine } from '@episteme/projections';
import { ClusterEventStore, connectCluster, NatsLog, natsRegistry, runRelay } from '@episteme/nats';
import { natsServerCommand, streamLeader, TestCluster } from '@episteme/nats/testing';
import { openEventStore as openLocal } from '@episteme/store';
import { Journal } from '@episteme/wal';
import { headers } from '@nats-io/transport-node';
import { PublishWindow } from '../../packages/nats/src/publishWindow.js';
import { ensureStream } from '../../packages/nats/src/streamLayout.js';
import { jetStreamHandles } from '../../packages/nats/src/handles.js';
import { loadAvg1 } from '../lib/results.js';
import type { BenchContext, Mode } from '../lib/types.js';

/**
 * Episteme on a 3-node NATS JetStream cluster on loopback (issue 26): the
 * relay's records/s and MB/s against the raw pipelined publish rate of the
 * same messages to the same cluster in the same run (goal >= 0.8), the read
 * side's catch-up of a new machine (a consumer, and a projection rebuilt
 * from 0, over a NatsLog: events/s), the cluster store's appendToStream (R1
 * and R3; 1 appender awaited, 64 concurrent on 64 streams) beside the
 * embedded store's, and the time from a stream leader's SIGKILL to the next
 * acknowledged append. The servers and this process share the machine's
 * cores: read the ratios. Runs only where nats-server is installed (Debian:
 * apt-get install -y nats-server).
 */
export const name = 'cluster';

const PAYLOAD = 256;
const GOAL_RATIO = 0.8;
const SIZES: Record<Mode, { records: number; appends: number }> = {
  full: { records: 200_000, appends: 3_000 },
  quick: { records: 50_000, appends: 1_000 },
  smoke: { records: 2_000, appends: 64 },
};

export async function run(ctx: BenchContext): Promise<void> {
  if (natsServerCommand() === undefined) {
    ctx.report({ title: 'cluster: skipped', notes: ['nats-server is not installed (Debian: apt-get install -y nats-server)'], columns: ['row'], rows: [] });
    return;
  }
  const size = SIZES[ctx.mode];
  const cluster = await TestCluster.start({ readyTimeoutMs: 60_000 });
  try {
    const dir = ctx.tempDir('episteme-bench-cluster-');
    const journal = await Journal.open({ dir, durability: 'none' });
    const payload = jsonEvent(PAYLOAD);
    for (let i = 0; i < size.records; i += 4096) {
      await journal.appendBatch(Array.from({ length: Math.min(4096, size.records - i) }, () => payload));
    }
    ctx.log(`journal of ${size.records} records of ${PAYLOAD} B; cluster ${cluster.servers.join(',')}; load ${loadAvg1().toFixed(1)}`);
    const nc = await connectCluster({ servers: cluster.servers });
    const handles = await jetStreamHandles(nc);

    // the peer: the same messages (payloads, message ids, position headers) pipelined through one reply inbox, without the relay's work
    // (reading the journal, the expected sequence, acknowledgements taken in order, the cursor)
    await ensureStream(handles.jsm, { stream: 'bench_raw', subjects: ['bench.raw'] });
    const window = new PublishWindow(nc, { window: 1024 });
    const rawStart = performance.now();
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < size.records; i++) {
      if (window.full) await window.space();
      const h = headers();
      h.set('Nats-Msg-Id', String(i * (PAYLOAD + 32)));
      h.set('Episteme-Offset', String(i * (PAYLOAD + 32)));
      h.set('Episteme-Next', String((i + 1) * (PAYLOAD + 32)));
      acks.push(window.publish('bench.raw', payload, h));
      if (acks.length >= 8192) await Promise.all(acks.splice(0));
    }
    await Promise.all(acks);
    const rawMs = performance.now() - rawStart;
    window.close();

    // created before the clock starts, as the peer's was
    await ensureStream(handles.jsm, { stream: 'bench_relay', subjects: ['episteme.bench_relay'] });
    const relayStart = performance.now();
    const relayed = await runRelay(journal, { connection: nc, stream: 'bench_relay', window: 1024 });
    const relayMs = performance.now() - relayStart;
    if (relayed.shipped !== size.records) throw new Error(`the relay shipped ${relayed.shipped} of ${size.records} records`);

    const rate = (n: number, ms: number): number => Math.round(n / (ms / 1000));
    const mbps = (n: number, ms: number): number => Number(((n * PAYLOAD) / 1e6 / (ms / 1000)).toFixed(2));
    const relayRatio = rawMs / relayMs;
    ctx.report({
      title: 'cluster: relay into an R3 stream, records/s',
      notes: [`${size.records} records of ${PAYLOAD} B; goal: relay >= ${GOAL_RATIO} of the raw pipelined publish rate; load average ${loadAvg1().toFixed(1)}`],
      columns: ['row', 'records/s', 'MB/s', 'ratio', 'goal met'],
      rows: [
        ['raw pipelined publish of the same messages (window 1024)', rate(size.records, rawMs), mbps(size.records, rawMs), 1, null],
        ['runRelay (window 1024, ids, expected sequence, cursor)', rate(size.records, relayMs), mbps(size.records, relayMs), Number(relayRatio.toFixed(2)), relayRatio >= GOAL_RATIO ? 'yes' : 'no'],
      ],
    });

    // the read side on a new machine: open, then a consumer from position 0 (cursor in the KV bucket), then a projection rebuilt from 0
    const openStart = performance.now();
    const log = await NatsLog.open({ connection: nc, stream: 'bench_relay' });
    const openMs = performance.now() - openStart;
    const registry = natsRegistry(log, { autoCleanup: false, logger: { warn: (m) => ctx.log(m) } });
    registry.register('bench');
    let handled = 0;
    let mostHeld = 0;
    const runStart = performance.now();
    await runConsumer(registry, 'bench', {
      handler: () => {
        if (++handled % 4096 === 0) mostHeld = Math.max(mostHeld, log.held.bytes);
      },
      stopAtHead: true,
      commitEveryRecords: 10_000,
    });
    const runMs = performance.now() - runStart;
    if (handled !== size.records) throw new Error(`the consumer handled ${handled} of ${size.records} records`);
    const engine = new ProjectionEngine({ log, store: new InMemorySnapshotStore(), logger: { warn: (m) => ctx.log(m) } });
    engine.register({ name: 'count', version: 1, initialState: () => ({ events: 0 }), apply: (state: { events: number }) => ((state.events += 1), state) });
    const foldStart = performance.now();
    await engine.start({ follow: false });
    const foldMs = performance.now() - foldStart;
    const folded = engine.query<{ events: number }>('count').state.events;
    await engine.stop();
    await log.close();
    if (folded !== size.records) throw new Error(`the projection folded ${folded} of ${size.records} events`);
    ctx.report({
      title: 'cluster: read side, catch-up of a new machine, events/s',
      notes: [
        `one event per record; the NatsLog fetches a bounded window ahead of each reader (8192 records or 8 MiB): at most ${(mostHeld / 1e6).toFixed(1)} MB of payloads held during the consumer's catch-up`,
        `load average ${loadAvg1().toFixed(1)}`,
      ],
      columns: ['row', 'events/s'],
      rows: [
        ['NatsLog.open (its first window fetched)', rate(Math.min(size.records, 8192), openMs)],
        ['runConsumer from position 0 over the NatsLog (cursor in the KV bucket every 10,000)', rate(size.records, runMs)],
        ['both: catch-up of a new machine', rate(size.records, openMs + runMs)],
        ['a projection rebuilt from 0 over the same NatsLog (JSON events, ProjectionEngine)', rate(size.records, foldMs)],
      ],
    });

    const rows: Array<[string, number]> = [];
    for (const replicas of [1, 3]) {
      const store = await ClusterEventStore.open({ connection: nc, stream: `bench_store_r${replicas}`, replicas });
      rows.push([`cluster R${replicas}, 1 appender awaited`, await appendsPerSecond(store, size.appends, 1)]);
      rows.push([`cluster R${replicas}, 64 appenders (64 streams)`, await appendsPerSecond(store, size.appends, 64)]);
      await store.close();
    }
    // a failover: the time from the stream leader's SIGKILL to the next acknowledged append (not in smoke mode: an election costs seconds)
    if (ctx.mode !== 'smoke') {
      const failover = await ClusterEventStore.open({ connection: nc, stream: 'bench_failover', replicas: 3, deadlineMs: 120_000 });
      let version = 0;
      for (let i = 0; i < 20; i++) version = (await failover.appendToStream('ledger', [{ type: 'Bench', data: { i } }], { expectedVersion: version })).nextExpectedVersion;
      const leader = await streamLeader(nc, 'bench_failover');
      const killedAt = performance.now();
      await cluster.kill(leader);
      version = (await failover.appendToStream('ledger', [{ type: 'Bench', data: {} }], { expectedVersion: version })).nextExpectedVersion;
      const resumeMs = performance.now() - killedAt;
      await failover.close();
      await cluster.restart(leader);
      rows.push([`cluster R3: ms from the leader's SIGKILL to the next acknowledged append`, Math.round(resumeMs)]);
    }
    const local = await openLocal({ dir: ctx.tempDir('episteme-bench-cluster-local-') });
    rows.push(['embedded (immediate), 1 appender awaited', await appendsPerSecond(local, size.appends, 1)]);
    rows.push(['embedded (immediate), 64 appenders (64 streams)', await appendsPerSecond(local, size.appends, 64)]);
    await local.close();
    ctx.report({
      title: 'cluster: appendToStream with an expected version, commits of 1 event, appends/s',
      notes: ['cluster: an acknowledgement is a quorum of replicas in memory (2.9.10 flushes on its own schedule); embedded: fsynced'],
      columns: ['row', 'appends/s (or ms)'],
      rows,
    });
    await nc.close();
    await journal.close();
  } finally {
    await cluster.stop();
  }
}

/** A JSON event of `size` bytes (a projection decodes it; the relay and the raw peer ship its bytes). */
function jsonEvent(size: number): Buffer {
  const shell = JSON.stringify({ type: 'Bench', data: { pad: '' } });
  return Buffer.from(JSON.stringify({ type: 'Bench', data: { pad: 'a'.repeat(size - shell.length) } }));
}

interface Appender {
  appendToStream(stream: string, events: { type: string; data: unknown }[], options: { expectedVersion: number }): Promise<{ nextExpectedVersion: number }>;
}

async function appendsPerSecond(store: Appender, total: number, appenders: number): Promise<number> {
  const each = Math.ceil(total / appenders);
  const prefix = `s${appenders}-${Math.random().toString(36).slice(2, 8)}`;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async (_, a) => {
      let version = 0;
      for (let i = 0; i < each; i++) version = (await store.appendToStream(`${prefix}-${a}`, [{ type: 'Bench', data: { i } }], { expectedVersion: version })).nextExpectedVersion;
    }),
  );
  return Math.round((each * appenders) / ((performance.now() - start) / 1000));
}
