import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { ConsumerRegistry, observeConsumers } from '@episteme/consumers';
import { EncodedCommitsBuilder, openEventStore } from '@episteme/store';
import { InMemorySnapshotStore, observeProjections, ProjectionEngine } from '../src/index.js';
import { appendEvents, quiet, tally, tempDir, type Ev } from './helpers.js';
import { histogramOf, inMemoryTelemetry } from '../../wal/test/otelReaders.js';

const events = (n: number, from = 0): Ev[] => Array.from({ length: n }, (_, i) => ({ type: ['a', 'b'][(from + i) % 2]!, n: from + i }));

/** The value of a gauge for the data point whose attribute `key` is `value`. */
function gauge(points: Awaited<ReturnType<ReturnType<typeof inMemoryTelemetry>['collect']>>, name: string, key: string, value: string): number | undefined {
  return points.get(name)?.find((p) => p.attributes[key] === value)?.value as number | undefined;
}

describe('consumer and projection metrics, rebuild and appendToStream spans', () => {
  it('after a scripted workload the gauges show each consumer\'s lag and commit age and each projection\'s lag and progress; a rebuild has its span', async () => {
    const t = inMemoryTelemetry();
    const dir = tempDir();
    const journal = await Journal.open({ dir, durability: 'none', telemetry: false });
    const offsets = await appendEvents(journal, events(30));
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: false });
    registry.register('worker');
    const committed = registry.commit('worker', offsets[10]!);
    const engine = ProjectionEngine.forJournal(journal, { registry, store: new InMemorySnapshotStore(), logger: quiet, telemetry: t });
    engine.register(tally());
    await engine.start({ follow: false });
    const now = Date.parse(committed.committedAt) + 2500;
    observeConsumers(registry, t, () => now);
    observeProjections(engine, t);

    let m = await t.collect();
    const group = 'messaging.consumer.group.name';
    expect(gauge(m, 'episteme.consumer.lag.records', group, 'worker')).toBe(20);
    expect(gauge(m, 'episteme.consumer.lag.bytes', group, 'worker')).toBe(journal.head - offsets[10]!);
    expect(gauge(m, 'episteme.consumer.commit.age', group, 'worker')).toBe(2.5);
    expect(gauge(m, 'episteme.projection.lag.bytes', 'episteme.projection.name', 'tally')).toBe(0);
    expect(gauge(m, 'episteme.projection.rebuild.progress', 'episteme.projection.name', 'tally')).toBe(1);

    const before = journal.head;
    await appendEvents(journal, events(5, 30));
    m = await t.collect();
    expect(gauge(m, 'episteme.consumer.lag.records', group, 'worker')).toBe(25);
    expect(gauge(m, 'episteme.projection.lag.bytes', 'episteme.projection.name', 'tally')).toBe(journal.head - before);

    const [span] = t.spans.getFinishedSpans();
    expect(span!.name).toBe('rebuild tally');
    expect(span!.attributes).toMatchObject({
      'messaging.system': 'episteme',
      'messaging.operation.name': 'rebuild',
      'episteme.projection.name': 'tally',
      'episteme.projection.version': 1,
      'episteme.projection.rebuild.reason': 'no-snapshot',
      'episteme.projection.events': 30,
      'episteme.projection.checkpoint': before,
    });
    await engine.stop();
    await journal.close();
  });

  it('appendToStream has a producer span naming the stream, around the journal\'s append span', async () => {
    const t = inMemoryTelemetry();
    const store = await openEventStore({ dir: join(tempDir(), 'store'), telemetry: t });
    await store.appendToStream('order-1', [{ type: 'placed', data: { n: 1 } }, { type: 'paid', data: {} }]);
    await store.appendToStream('order-1', [{ type: 'shipped', data: {} }], { expectedVersion: 2 });
    await expect(store.appendToStream('order-1', [{ type: 'x', data: {} }], { expectedVersion: 1 })).rejects.toMatchObject({ code: 'STORE_VERSION_CONFLICT' });
    await store.close();
    const spans = t.spans.getFinishedSpans().filter((s) => s.name.startsWith('appendToStream'));
    expect(spans.map((s) => [s.name, s.attributes['messaging.batch.message_count'], s.attributes['episteme.stream.version'], s.status.code])).toEqual([
      ['appendToStream order-1', 2, 2, 0],
      ['appendToStream order-1', 1, 3, 0],
      ['appendToStream order-1', 1, undefined, 2], // the conflict: an error status
    ]);
    expect(spans[0]!.attributes).toMatchObject({ 'messaging.system': 'episteme', 'messaging.destination.name': 'order-1', 'messaging.operation.name': 'appendToStream', 'messaging.operation.type': 'send' });
    expect(t.spans.getFinishedSpans().filter((s) => s.name === 'append store')).toHaveLength(2);
    expect(histogramOf(await t.collect(), 'episteme.journal.append.duration')!.count).toBe(2);
  });

  it('appendEach and appendEncoded have one span a call: the commits carried, how many were refused; a call refused whole has an error status', async () => {
    const t = inMemoryTelemetry();
    const store = await openEventStore({ dir: join(tempDir(), 'store'), telemetry: t });
    await store.appendToStream('cart-1', [{ type: 'opened', data: {} }]);
    const each = await store.appendEach([
      { stream: 'cart-1', events: [{ type: 'added', data: { sku: 'a' } }], expectedVersion: 1 },
      { stream: 'cart-2', events: [{ type: 'opened', data: {} }] },
      { stream: 'cart-1', events: [{ type: 'added', data: { sku: 'b' } }], expectedVersion: 0 }, // a conflict: its own outcome
    ]);
    expect(each.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    await expect(store.appendEach('not commits' as never)).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
    const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
    builder.add('cart-3', [{ type: 'opened', data: {} }]);
    builder.add('cart-2', [{ type: 'added', data: { sku: 'c' } }], 5); // a conflict
    const encoded = await store.appendEncoded(builder.take());
    expect(encoded.refused.size).toBe(1);
    await store.close();
    const spans = t.spans.getFinishedSpans().filter((s) => s.name === 'appendEach' || s.name === 'appendEncoded');
    expect(spans.map((s) => [s.name, s.attributes['messaging.batch.message_count'], s.attributes['episteme.store.commits_refused'], s.status.code])).toEqual([
      ['appendEach', 3, 1, 0],
      ['appendEach', 0, undefined, 2], // refused whole: an error status, the error recorded
      ['appendEncoded', 2, 1, 0],
    ]);
    expect(spans[1]!.events.map((e) => e.name)).toEqual(['exception']);
    expect(spans[0]!.attributes).toMatchObject({ 'messaging.system': 'episteme', 'messaging.operation.name': 'appendEach', 'messaging.operation.type': 'send' });
  });
});
