/**
 * @episteme/nats: Episteme on NATS JetStream. A relay ships a journal into a
 * replicated stream exactly once; the log interface over a stream lets the
 * consumers and projections packages run on other machines; the event
 * store runs on the cluster with the same API. See docs/nats.md.
 */
export * from './errors.js';
export { connectCluster, type NatsConnectOptions } from './connection.js';
export { runRelay, type RelayOptions, type RelayProgress, type RelayResult } from './relay/runRelay.js';
export { OFFSET_HEADER, NEXT_HEADER } from './messageHeaders.js';
export { NatsLog, type NatsLogOptions } from './log/natsLog.js';
export { KvCursorStore } from './log/kvCursorStore.js';
export { natsRegistry } from './log/natsRegistry.js';
export { ClusterEventStore, type ClusterStoreOptions } from './store/clusterEventStore.js';
export { openEventStore, type AnyEventStoreOptions } from './store/openEventStore.js';
export { POSITION_SCALE, positionAfter } from './log/positions.js';
