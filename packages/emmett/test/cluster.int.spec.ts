import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsLog, natsRegistry } from '@episteme/nats';
import { natsSkipReason, TestCluster } from '@episteme/nats/testing';
import { getEpistemeEventStore, isEmmettAdapterError, type EpistemeEventStore, type EpistemeEventStoreConsumer } from '../src/index.js';
import { cursorNameOf } from '../src/consumer/cursorName.js';
import { checkConcurrentWithoutRetry, checkConcurrentWithRetry } from './commandHandlerChecks.js';
import { runOnBoth, scenarios } from './differentialScenarios.js';
import { addedEventsOf, fill, readModel } from './totalsProjection.js';
import { spawnChild } from '../../wal/test/children/spawn.js';

/**
 * The adapter over the cluster store (`getEpistemeEventStore({ nats })`) on
 * a real 3-node JetStream cluster: the differential scenarios, CommandHandler
 * under concurrency, a projector stopped and restarted, bad input. Skipped
 * where nats-server is not installed (never under CI).
 */
const skipReason = natsSkipReason();
if (skipReason !== undefined) console.warn(`skipping the Emmett-on-NATS tests: ${skipReason}`);

/** Elections take seconds on a loaded 2-core machine. */
const TIMEOUT = 120_000;

describe.skipIf(skipReason !== undefined)('the adapter on a JetStream cluster', () => {
  let cluster: TestCluster;
  const opened: EpistemeEventStore[] = [];
  beforeAll(async () => {
    cluster = await TestCluster.start({ readyTimeoutMs: 60_000 });
  }, TIMEOUT);
  afterEach(async () => {
    while (opened.length) await opened.pop()!.close();
  });
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  async function onCluster(stream: string): Promise<EpistemeEventStore> {
    const store = await getEpistemeEventStore({ nats: { servers: cluster.servers, stream } });
    opened.push(store);
    return store;
  }

  Object.entries(scenarios).forEach(([name, steps], i) => {
    it(`gives the results of Emmett getInMemoryEventStore: ${name}`, async () => {
      const { memory, episteme } = await runOnBoth(steps, await onCluster(`emmett_diff_${i}`));
      expect(episteme).toEqual(memory);
    }, TIMEOUT);
  });

  it('CommandHandler: 32 concurrent commands on 4 carts without retry give Emmett conflicts and the states of a sequential replay', async () => {
    await checkConcurrentWithoutRetry(await onCluster('emmett_commands'));
  }, TIMEOUT);

  it('CommandHandler: 32 concurrent commands on 4 carts with Emmett retry all succeed, with the states of a sequential replay', async () => {
    await checkConcurrentWithRetry(await onCluster('emmett_commands_retry'));
  }, TIMEOUT);

  it('a projector stopped part-way and restarted in another connection ends with the state of one pass; its checkpoint is in the KV bucket', async () => {
    const EVENTS = 2_000;
    const stream = 'emmett_projector';
    const writer = await onCluster(stream);
    const expected = await fill(writer, EVENTS);
    const { model, definition } = readModel();

    // first run: it stops itself after 500 events, inside the stream (a following consumer never ends on its own)
    let consumer: EpistemeEventStoreConsumer = writer.consumer({ pulling: { batchSize: 16 } });
    consumer.projector({
      projection: {
        ...definition,
        handle: async (events, context) => {
          await definition.handle(events, context);
          if (model.applied.size >= 500) void consumer.stop();
        },
      },
    });
    await consumer.start();
    const afterFirst = model.applied.size;
    expect(afterFirst).toBeGreaterThanOrEqual(500);
    expect(afterFirst).toBeLessThan(addedEventsOf(EVENTS));
    await writer.close();
    opened.splice(opened.indexOf(writer), 1);

    // another connection (a restarted process) resumes from the checkpoint in the bucket, to the head
    const again = await onCluster(stream);
    consumer = again.consumer({ stopWhen: { noMessagesLeft: true } });
    consumer.projector({ projection: definition });
    await consumer.start();
    expect(model.twice).toEqual([]);
    expect(model.total).toBe(expected);
    expect(model.applied.size).toBe(addedEventsOf(EVENTS));

    // the checkpoint is the head: one more run applies nothing
    consumer = again.consumer({ stopWhen: { noMessagesLeft: true } });
    consumer.projector({ projection: definition });
    await consumer.start();
    expect(model.applied.size).toBe(addedEventsOf(EVENTS));
    expect(model.twice).toEqual([]);
    // the process ends; the bucket holds the processor's checkpoint at the head
    await again.close();
    opened.splice(opened.indexOf(again), 1);
    const log = await NatsLog.open({ servers: cluster.servers, stream });
    try {
      expect(natsRegistry(log).get(cursorNameOf('emt:processor:projector:totals')).cursor).toBe(log.head);
    } finally {
      await log.close();
    }
  }, TIMEOUT);

  it('the shopping-cart example runs on the cluster; a second run projects only its own carts (the checkpoint is in the bucket)', async () => {
    const run = async (): Promise<string> => {
      const child = spawnChild(join(import.meta.dirname, '..', 'examples', 'shoppingCart', 'run.ts'), ['--nats', cluster.servers.join(','), 'emmett_example']);
      expect(await child.exited, child.stderr()).toBe(0);
      return child.lines.join('\n');
    };
    const first = await run();
    expect(first).toMatch(/busy: version 21n?,/);
    const second = await run();
    const carts = (out: string): string[] => [...out.matchAll(/'(cart-[a-z0-9]+)(-busy)?'/g)].map((m) => m[1]!);
    const firstCarts = new Set(carts(first));
    expect(firstCarts.size).toBe(1);
    expect(carts(second).length).toBeGreaterThan(0);
    expect(carts(second).some((c) => firstCarts.has(c))).toBe(false);
  }, TIMEOUT);

  it('bad input: unreachable servers (NATS_UNREACHABLE), a bad stream name (NATS_INVALID_ARGUMENT), nats beside dir (EMMETT_INVALID_ARGUMENT); nothing is created on the cluster', async () => {
    const before = await streamNames(cluster);
    expect(before[0]).toContain('emmett_diff_0'); // the earlier tests' streams: the listing sees streams
    const unreachable = await getEpistemeEventStore({ nats: { servers: [`nats://127.0.0.1:${await closedPort()}`], stream: 'emmett_never', timeoutMs: 1_000 } }).catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'NATS_UNREACHABLE' });
    const badName = await getEpistemeEventStore({ nats: { servers: cluster.servers, stream: 'bad.name' } }).catch((e: unknown) => e);
    expect(badName).toMatchObject({ code: 'NATS_INVALID_ARGUMENT' });
    const noServers = await getEpistemeEventStore({ nats: { servers: [], stream: 'emmett_never' } }).catch((e: unknown) => e);
    expect(noServers).toMatchObject({ code: 'NATS_INVALID_ARGUMENT' });
    const beside = await getEpistemeEventStore({ dir: '/nonexistent/never-made', nats: { servers: cluster.servers, stream: 'emmett_never' } } as never).catch((e: unknown) => e);
    expect(isEmmettAdapterError(beside, 'EMMETT_INVALID_ARGUMENT')).toBe(true);
    expect(await streamNames(cluster)).toEqual(before);
  }, TIMEOUT);
});

/** The names of the streams (KV buckets included) each server holds, from its monitoring port. */
async function streamNames(cluster: TestCluster): Promise<string[][]> {
  return await Promise.all(
    cluster.nodes.map(async (node) => {
      const jsz = (await (await fetch(`http://127.0.0.1:${node.httpPort}/jsz?streams=true`)).json()) as { account_details?: Array<{ stream_detail?: Array<{ name: string }> }> };
      return (jsz.account_details ?? []).flatMap((a) => (a.stream_detail ?? []).map((d) => d.name)).sort();
    }),
  );
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
    });
  });
}
