export { runEventConsumer, type EventRunOptions, type EventHandler, type EventBatchHandler } from './runEventConsumer.js';
export { STORE_CLEANUP_UNSUPPORTED, type StoreRegistryOptions } from './storeRegistry.js';
