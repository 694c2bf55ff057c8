import { openEventStore as openLocalEventStore, type EventStoreOptions, type LocalEventStore } from '@episteme/store';
import { ClusterEventStore, type ClusterStoreOptions } from './clusterEventStore.js';

/** The embedded store's options, or `{ nats }`: the same store API on a JetStream cluster. */
export type AnyEventStoreOptions = EventStoreOptions | { nats: ClusterStoreOptions };

/**
 * Opens the event store an app is configured for: embedded on a journal
 * directory, or on a cluster (`{ nats: { servers, stream } }`). The app's
 * code above it is the same: both implement EventStore.
 */
export async function openEventStore(options: { nats: ClusterStoreOptions }): Promise<ClusterEventStore>;
export async function openEventStore(options: EventStoreOptions): Promise<LocalEventStore>;
export async function openEventStore(options: AnyEventStoreOptions): Promise<LocalEventStore | ClusterEventStore>;
export async function openEventStore(options: AnyEventStoreOptions): Promise<LocalEventStore | ClusterEventStore> {
  if (typeof options === 'object' && options !== null && 'nats' in options) return await ClusterEventStore.open(options.nats);
  return await openLocalEventStore(options);
}
