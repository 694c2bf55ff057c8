import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEventStore, type RecordedEvent } from '@episteme/store';
import { ConsumerErrorCodes, ConsumerRegistry, isConsumerError, runEventConsumer, STORE_CLEANUP_UNSUPPORTED } from '../../src/index.js';
import { quiet, thrown } from '../helpers.js';
import { appendMix, freshStore } from './storeFixture.js';

const segmentsOf = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg') || /^\d+/.test(f)).sort();

describe('ConsumerRegistry.forStore: the registry of a store consumers', () => {
  it('keeps cursor files in the store directory, and a consumer resumes after a reopen from its durable cursor', async () => {
    const store = await freshStore();
    await appendMix(store, 10);
    const registry = ConsumerRegistry.forStore(store, { logger: quiet });
    registry.register('mail');
    const first: RecordedEvent[] = [];
    await runEventConsumer(registry, 'mail', { decoder: store.decoder(), handler: (e) => void first.push(e), stopAtHead: true });
    expect(existsSync(join(store.dir, 'consumers', 'mail.cursor'))).toBe(true);
    const dir = store.dir;
    await store.close();

    const again = await openEventStore({ dir });
    try {
      await again.appendToStream('order-77', [{ type: 'Placed', data: 77 }]);
      const reg = ConsumerRegistry.forStore(again, { logger: quiet });
      const later: RecordedEvent[] = [];
      await runEventConsumer(reg, 'mail', { decoder: again.decoder(), handler: (e) => void later.push(e), stopAtHead: true });
      expect(later.map((e) => `${e.stream}:${e.data as number}`)).toEqual(['order-77:77']);
      expect(first.length).toBeGreaterThan(10);
    } finally {
      await again.close();
    }
  });

  it('deletes nothing on cleanup and says why; deleting a consumer deletes no segment either', async () => {
    const store = await freshStore({ maxSegmentBytes: 1024 });
    await appendMix(store, 60);
    const segments = segmentsOf(store.dir);
    expect(segments.length).toBeGreaterThan(2);
    const warnings: string[] = [];
    const registry = ConsumerRegistry.forStore(store, { logger: { warn: (m) => void warnings.push(m) } });
    registry.register('done');
    await runEventConsumer(registry, 'done', { decoder: store.decoder(), handler: () => undefined, commitEveryRecords: 1, stopAtHead: true });
    expect(registry.get('done').cursor).toBe(store.log.head);
    expect(registry.cleanup()).toEqual([]);
    expect(warnings).toEqual([STORE_CLEANUP_UNSUPPORTED]);
    registry.delete('done');
    expect(segmentsOf(store.dir)).toEqual(segments);
    expect(store.log.earliest).toBe(0);
    // the first stream is still whole
    expect((await store.readStream('order-1')).events[0]!.streamPosition).toBe(1);
  });

  it('refuses autoCleanup and what is not a store, with InvalidConsumerArgumentError and no file written', async () => {
    const store = await freshStore();
    const err = thrown(() => ConsumerRegistry.forStore(store, { autoCleanup: true } as object));
    expect(isConsumerError(err, ConsumerErrorCodes.InvalidArgument)).toBe(true);
    expect(existsSync(join(store.dir, 'consumers'))).toBe(false);
    for (const notAStore of [undefined, null, {}, { dir: store.dir }, store.log]) {
      const e = thrown(() => ConsumerRegistry.forStore(notAStore as never));
      expect(isConsumerError(e, ConsumerErrorCodes.InvalidArgument), String(e)).toBe(true);
    }
    expect(existsSync(join(store.dir, 'consumers'))).toBe(false);
  });
});
