import { ConsumerRegistry, type RegistryOptions } from '@episteme/consumers';
import type { NatsLog } from './natsLog.js';

/**
 * The consumers of a stream: cursors in the log's KV bucket, and retention
 * that purges a relay's stream below the lowest cursor (off with
 * `autoCleanup: false`). An event store's stream is never purged (see
 * NatsLog.purgeable): its registry has no retention.
 */
export function natsRegistry(log: NatsLog, options: RegistryOptions = {}): ConsumerRegistry {
  if (!log.purgeable) return new ConsumerRegistry({ log, cursors: log.cursors }, { ...options, autoCleanup: false });
  return new ConsumerRegistry({ log, cursors: log.cursors, retention: log }, options);
}
