/**
 * @episteme/consumers: durable cursors over an Episteme journal, a registry
 * to administer them, a runner that delivers records at least once, and
 * cleanup of segments every consumer has passed.
 */
export * from './errors.js';
export { validateConsumerName, MAX_CONSUMER_NAME_LENGTH } from './consumerName.js';
export { encodeCursorFile, decodeCursorFile, type CursorState } from './cursorFile.js';
export { CursorStore, CONSUMERS_DIR } from './cursorStore.js';
export { ConsumerRegistry, type ConsumerInfo, type Logger, type RegistryOptions } from './registry.js';
export type { StartFrom } from './startFrom.js';
export type { CursorClampEvent } from './clampEvents.js';
export type { WarningAbout } from './damageReports.js';
export { runConsumer, type RunOptions, type RunResult, type RecordHandler, type BatchHandler, type RetryOptions } from './runner.js';
export { registerConsumers, JOURNAL, CONSUMER_REGISTRY, CONSUMER_REGISTRY_OPTIONS } from './di.js';
