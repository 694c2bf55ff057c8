import type { TelemetryOptions } from '@episteme/wal';
import { instrumentsFor, TelemetryAttributes as Attr, TELEMETRY_SYSTEM } from '@episteme/wal/internals';
import type { ConsumerInfo } from './registry.js';

export const CONSUMERS_SCOPE = '@episteme/consumers';

/**
 * Observable gauges of a registry's consumers, read from `list()` at each
 * collection (nothing runs between scrapes): `episteme.consumer.lag.records`,
 * `episteme.consumer.lag.bytes` and `episteme.consumer.commit.age` (seconds
 * since the last cursor commit), with `messaging.consumer.group.name` = the
 * consumer's name. Returns the function that stops observing; a no-op
 * without an SDK.
 */
export function observeConsumers(registry: { list(): ConsumerInfo[] }, options?: TelemetryOptions | false, now: () => number = Date.now): () => void {
  const meter = instrumentsFor(CONSUMERS_SCOPE, '0.1.0', options)?.meter;
  if (!meter) return () => undefined;
  const records = meter.createObservableGauge('episteme.consumer.lag.records', { description: 'Records between a consumer\'s cursor and the head', unit: '{record}' });
  const bytes = meter.createObservableGauge('episteme.consumer.lag.bytes', { description: 'Log bytes between a consumer\'s cursor and the head', unit: 'By' });
  const age = meter.createObservableGauge('episteme.consumer.commit.age', { description: 'Seconds since a consumer last committed its cursor', unit: 's' });
  const callback = (result: { observe(instrument: unknown, value: number, attributes?: Record<string, string>): void }): void => {
    const t = now();
    for (const c of registry.list()) {
      if (c.cursor < 0) continue; // a cursor file that cannot be read has no lag to report
      const attrs = { [Attr.system]: TELEMETRY_SYSTEM, [Attr.consumerGroup]: c.name };
      if (c.lagRecords !== undefined) result.observe(records, c.lagRecords, attrs);
      result.observe(bytes, c.lagBytes, attrs);
      const committed = Date.parse(c.lastCommitAt);
      if (Number.isFinite(committed)) result.observe(age, Math.max(0, (t - committed) / 1000), attrs);
    }
  };
  meter.addBatchObservableCallback(callback as never, [records, bytes, age]);
  return () => meter.removeBatchObservableCallback(callback as never, [records, bytes, age]);
}
