import { openEventStore } from '@episteme/store';
import { openOnCluster } from './cluster/openOnCluster.js';
import { EpistemeEmmettEventStore, type EpistemeEventStore } from './epistemeEventStore.js';
import { checkOptions, type EpistemeEventStoreOptions } from './options.js';

/**
 * Emmett's EventStore on Episteme: opens an embedded store on `dir` (the
 * journal's and the store's options as `openEventStore` takes them: say
 * `groupCommit: true` for many concurrent writers), or adapts a store
 * already open (`{ store }`, any implementation of @episteme/store's
 * EventStore; its processors' cursors and decoder in `consumers`, unless
 * it is an embedded store, which has its own), or opens the store on a
 * JetStream cluster (`{ nats: { servers, stream } }`, with the optional
 * peer @episteme/nats; EMMETT_PEER_MISSING when it is not installed).
 * Asynchronous, unlike Emmett's own factories:
 * the open recovers the journal first. Bad options reject with
 * EMMETT_INVALID_ARGUMENT (the store's own with STORE_INVALID_ARGUMENT or
 * the journal's WAL_* errors) before anything is created on disk.
 */
export async function getEpistemeEventStore(options: EpistemeEventStoreOptions): Promise<EpistemeEventStore> {
  const { open, nats, store, consumers, hooks } = checkOptions(options);
  if (nats) return await openOnCluster(nats, hooks);
  return new EpistemeEmmettEventStore(store ?? (await openEventStore(open!)), hooks, consumers);
}
