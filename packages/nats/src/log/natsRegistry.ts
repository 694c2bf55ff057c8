import { ConsumerRegistry, type RegistryOptions } from '@episteme/consumers';
import type { NatsLog } from './natsLog.js';

/**
 * The consumers of a stream: cursors in the log's KV bucket, and retention
 * that purges the stream below the lowest cursor (off with `autoCleanup: false`).
 */
export function natsRegistry(log: NatsLog, options: RegistryOptions = {}): ConsumerRegistry {
  return new ConsumerRegistry({ log, cursors: log.cursors, retention: log }, options);
}
