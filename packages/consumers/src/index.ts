/**
 * @episteme/consumers: durable cursors over a log (an Episteme journal, or
 * any LogReader), a registry to administer them, a runner that delivers
 * records at least once, and cleanup of what every consumer has passed;
 * over an event store, the same with decoded events (`ConsumerRegistry.forStore`,
 * `runEventConsumer`).
 */
export * from './errors.js';
export { validateConsumerName, MAX_CONSUMER_NAME_LENGTH } from './consumerName.js';
export { encodeCursorFile, decodeCursorFile } from './cursorFile.js';
export type { CursorState, CursorStore } from '@episteme/wal';
export { FileCursorStore, CONSUMERS_DIR } from './fileCursorStore.js';
export { CURSOR_POSITIONS } from './backupPositions.js';
export { observeConsumers } from './telemetry.js';
export { ConsumerRegistry, type ConsumerInfo, type JournalRegistryOptions, type Logger, type RegistryOptions, type RegistryParts } from './registry.js';
export type { StartFrom } from './startFrom.js';
export type { CursorClampEvent } from './clampEvents.js';
export type { WarningAbout } from './damageReports.js';
export { runConsumer, type RunOptions, type RunResult, type RecordHandler, type BatchHandler, type RetryOptions } from './runner.js';
export { runEventConsumer, STORE_CLEANUP_UNSUPPORTED, type EventRunOptions, type EventHandler, type EventBatchHandler, type StoreRegistryOptions } from './events/index.js';
export { registerConsumers, CONSUMER_REGISTRY, CONSUMER_REGISTRY_OPTIONS } from './di.js';
