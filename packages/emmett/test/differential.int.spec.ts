import { isExpectedVersionConflictError, ExpectedVersionConflictError, STREAM_DOES_NOT_EXIST, type ReadEvent } from '@event-driven-io/emmett';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStore } from '@episteme/store';
import { getEpistemeEventStore, type EpistemeEventStore, type EpistemeReadEvent } from '../src/index.js';
import { added, runOnBoth, scenarios, type Step } from './differentialScenarios.js';
import { interfaceOnly, tempDir } from './helpers.js';

/** The scenarios (differentialScenarios.ts) on the embedded store and on a store known only by its interface; the cluster runs them in cluster.int.spec.ts. */

const opened: EpistemeEventStore[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

/**
 * The adapter on an embedded store, or on a store it only knows through
 * @episteme/store's EventStore interface (what the cluster's store will
 * be): the Emmett API must use nothing else.
 */
async function openAdapter(through: 'dir' | 'interface'): Promise<EpistemeEventStore> {
  if (through === 'dir') return getEpistemeEventStore({ dir: tempDir() });
  const inner = await openEventStore({ dir: tempDir() });
  return getEpistemeEventStore({ store: interfaceOnly(inner) });
}

async function runBoth(steps: Step[], through: 'dir' | 'interface' = 'dir'): Promise<{ memory: unknown[]; episteme: unknown[]; store: EpistemeEventStore }> {
  const store = await openAdapter(through);
  opened.push(store);
  return { ...(await runOnBoth(steps, store)), store };
}

describe('the adapter against Emmett getInMemoryEventStore', () => {
  for (const through of ['dir', 'interface'] as const) {
    for (const [name, steps] of Object.entries(scenarios)) {
      it(`gives the same results (${through === 'dir' ? 'embedded store' : 'a store known only by its interface'}): ${name}`, async () => {
        const { memory, episteme } = await runBoth(steps, through);
        expect(episteme).toEqual(memory);
      });
    }
  }

  it('returns increasing global positions from 1, lastEventGlobalPosition of the commit, and message ids stable across reads', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    const a = await store.appendToStream('g-1', [added(1), added(2)]);
    const b = await store.appendToStream('g-2', [added(3)]);
    expect(a.lastEventGlobalPosition).toBeGreaterThanOrEqual(2n);
    expect(b.lastEventGlobalPosition).toBeGreaterThan(a.lastEventGlobalPosition);
    const first = await store.readStream('g-1');
    const again = await store.readStream('g-1');
    const positions = first.events.map((e) => e.metadata.globalPosition);
    expect(positions[0]).toBeGreaterThanOrEqual(1n);
    expect(positions[1]).toBe(a.lastEventGlobalPosition);
    expect((await store.readStream('g-2')).events[0]!.metadata.globalPosition).toBe(b.lastEventGlobalPosition);
    expect(again.events.map((e) => e.metadata.messageId)).toEqual(first.events.map((e) => e.metadata.messageId));
    const agg = await store.aggregateStream('g-1', { initialState: () => 0, evolve: (n: number) => n + 1 });
    expect(agg).toMatchObject({ streamExists: true, lastEventGlobalPosition: a.lastEventGlobalPosition });
  });

  it('keeps a messageId the caller gives (as Emmett SQL stores do) and resolves a retried append to its first result', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    const events = [added(1, { messageId: 'msg-1', correlationId: 'c' }), added(2, { messageId: 'msg-2' })];
    const first = await store.appendToStream('i-1', events, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
    const retry = await store.appendToStream('i-1', events, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
    expect(retry).toEqual(first);
    const { events: read_ } = await store.readStream('i-1');
    expect(read_.map((e: ReadEvent) => e.metadata.messageId)).toEqual(['msg-1', 'msg-2']);
    expect(read_[0]!.metadata).toMatchObject({ correlationId: 'c', streamName: 'i-1', streamPosition: 1n });
  });

  it('throws Emmett own ExpectedVersionConflictError with the actual version, which CommandHandler retry policies recognise', async () => {
    const store = await getEpistemeEventStore({ dir: tempDir() });
    opened.push(store);
    await store.appendToStream('c-1', [added(1), added(2)]);
    const err = await store.appendToStream('c-1', [added(3)], { expectedStreamVersion: 1n }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpectedVersionConflictError);
    expect(isExpectedVersionConflictError(err)).toBe(true);
    expect(err).toMatchObject({ current: '2', expected: '1' });
    expect((await store.readStream('c-1')).currentStreamVersion).toBe(2n);
  });

  it('calls onAfterCommit with the committed events as read back', async () => {
    const seen: EpistemeReadEvent[][] = [];
    const store = await getEpistemeEventStore({ dir: tempDir(), hooks: { onAfterCommit: (events) => void seen.push(events as EpistemeReadEvent[]) } });
    opened.push(store);
    const r = await store.appendToStream('h-1', [added(1), added(2, { correlationId: 'x' })]);
    const { events } = await store.readStream('h-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual(events);
    expect(seen[0]![1]!.metadata.globalPosition).toBe(r.lastEventGlobalPosition);
  });

  it('close() stops its consumers and closes the journal: calls then reject with STORE_CLOSED and the directory opens again', async () => {
    const dir = tempDir();
    const store = await getEpistemeEventStore({ dir });
    await store.appendToStream('z-1', [added(1)]);
    const consumer = store.consumer();
    consumer.reactor({ processorId: 'follower', eachMessage: () => undefined });
    const running = consumer.start();
    await store.close();
    await running;
    expect(consumer.isRunning).toBe(false);
    expect(((await store.appendToStream('z-1', [added(2)]).catch((e: unknown) => e)) as { code?: string }).code).toBe('STORE_CLOSED');
    const again = await getEpistemeEventStore({ dir });
    opened.push(again);
    expect((await again.readStream('z-1')).currentStreamVersion).toBe(1n);
  });
});
