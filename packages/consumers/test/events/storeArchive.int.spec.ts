import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEventStore } from '@episteme/store';
import { ConsumerRegistry, runEventConsumer } from '../../src/index.js';
import { quiet, tempDir } from '../helpers.js';
import { appendMix, freshStore, readAllOf } from './storeFixture.js';

const wal = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.wal')).sort();

describe('cleanup under an event store whose journal archives', () => {
  it('moves what every consumer passed to the archive; streams, the global read and a reopened store still read every event', async () => {
    const archiveDir = join(tempDir(), 'archive');
    const store = await freshStore({ maxSegmentBytes: 1024, archiveDir });
    await appendMix(store, 60);
    const before = await readAllOf(store);
    const order1 = await store.readStream('order-1');
    const live = wal(store.dir);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet }); // autoCleanup: on, with an archive
    registry.register('done');
    await runEventConsumer(registry, 'done', { decoder: store.decoder(), handler: () => undefined, commitEveryRecords: 1, stopAtHead: true });
    expect(wal(archiveDir).length).toBeGreaterThan(2);
    expect(wal(store.dir).length).toBeLessThan(live.length);
    expect([...wal(archiveDir), ...wal(store.dir)].sort()).toEqual(live);
    expect(store.log.earliest).toBe(0);
    expect(await readAllOf(store)).toEqual(before);
    expect(await store.readStream('order-1')).toEqual(order1);
    const dir = store.dir;
    await store.close();
    const again = await openEventStore({ dir, archiveDir });
    try {
      expect(await again.readStream('order-1')).toEqual(order1);
      expect(await readAllOf(again)).toEqual(before);
    } finally {
      await again.close();
    }
  });

  it('without an archive autoCleanup is still refused', async () => {
    const store = await freshStore();
    expect(() => ConsumerRegistry.forStore(store, { logger: quiet, autoCleanup: true })).toThrow(expect.objectContaining({ code: 'CONSUMER_INVALID_ARGUMENT' }));
  });
});
