import { describe, expect, it } from 'vitest';
import { ConsumerRegistry } from '@episteme/consumers';
import { runRelay } from '../src/index.js';
import { CLUSTER_TEST_TIMEOUT, differenceFromJournal, journalWith, appendRecords, skipReason, streamContents, useCluster } from './helpers.js';

describe.skipIf(skipReason !== undefined)('relay into a JetStream cluster', () => {
  const { cluster, nc } = useCluster();

  it('ships every record once, in order, byte for byte; a second run ships only what was appended since', async () => {
    const journal = await journalWith(3000);
    const first = await runRelay(journal, { servers: cluster().servers, stream: 'relay_basic' });
    expect(first.shipped).toBe(3000);
    expect(first.position).toBe(journal.head);
    await appendRecords(journal, 3000, 500);
    const second = await runRelay(journal, { servers: cluster().servers, stream: 'relay_basic' });
    expect(second.shipped).toBe(500);
    const stored = await streamContents(nc(), 'relay_basic');
    expect(stored.length).toBe(3500);
    expect(await differenceFromJournal(journal, stored)).toBeUndefined();
  }, CLUSTER_TEST_TIMEOUT);

  it('is a registered consumer: its lag shows in the registry, and cleanup keeps what it has not shipped', async () => {
    const journal = await journalWith(2000, { maxSegmentBytes: 16 * 1024 });
    const registry = ConsumerRegistry.forJournal(journal, { autoCleanup: false });
    await runRelay(journal, { servers: cluster().servers, stream: 'relay_lag' });
    const shippedTo = journal.head;
    await appendRecords(journal, 2000, 1000);
    const info = registry.list().find((c) => c.name === 'relay-relay_lag')!;
    expect(info.cursor).toBe(shippedTo);
    expect(info.lagRecords).toBe(1000);
    expect(info.lagBytes).toBe(journal.head - shippedTo);
    expect(registry.cleanup().length).toBeGreaterThan(0);
    expect(journal.earliest).toBeGreaterThan(0);
    expect(journal.earliest).toBeLessThanOrEqual(shippedTo);
    await runRelay(journal, { servers: cluster().servers, stream: 'relay_lag' });
    expect(await differenceFromJournal(journal, (await streamContents(nc(), 'relay_lag')).filter((s) => s.offset >= journal.earliest), journal.earliest)).toBeUndefined();
  }, CLUSTER_TEST_TIMEOUT);
});
