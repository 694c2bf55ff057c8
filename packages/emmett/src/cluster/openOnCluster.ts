import { createEventDecoder } from '@episteme/store';
import type { NatsLog } from '@episteme/nats';
import type { StoreConsumers } from '../consumer/processorFeed.js';
import { EpistemeEmmettEventStore, type EpistemeEventStore } from '../epistemeEventStore.js';
import type { EpistemeEventStoreHooks, EpistemeNatsOptions } from '../options.js';
import { loadPeer } from './loadPeer.js';

type NatsPeer = typeof import('@episteme/nats');
type NatsConnection = NonNullable<EpistemeNatsOptions['connection']>;

const loadNats = (): Promise<NatsPeer> => loadPeer('@episteme/nats', 'getEpistemeEventStore({ nats })', () => import('@episteme/nats'));

/**
 * The adapter over @episteme/nats's ClusterEventStore: one connection for
 * the store and, from the first consumer on, a NatsLog over the same
 * JetStream stream whose KV bucket holds the processors' checkpoints. The
 * log is opened only when a processor runs (it holds the stream's records
 * in memory); a CommandHandler-only process never opens it. The connection
 * is the adapter's unless `connection` was given; close() ends both.
 */
export async function openOnCluster(options: EpistemeNatsOptions, hooks: EpistemeEventStoreHooks): Promise<EpistemeEventStore> {
  const nats = await loadNats();
  const { cursorBucket, connection: given, ...storeOptions } = options;
  const connection: NatsConnection = given ?? (await nats.connectCluster({ ...storeOptions, servers: storeOptions.servers ?? [] }));
  let log: Promise<NatsLog> | undefined;
  try {
    const store = await nats.ClusterEventStore.open({ ...storeOptions, connection });
    const decoder = createEventDecoder(options.upcasters ? { upcasters: options.upcasters } : {});
    const consumers = async (): Promise<StoreConsumers> => {
      // a failed open (the cluster down at the time) is tried again by the next consumer
      log ??= nats.NatsLog.open({ stream: store.jsStream, connection, ...(cursorBucket ? { cursorBucket } : {}), ...optional('replicas', options.replicas), ...optional('deadlineMs', options.deadlineMs) }).catch((error: unknown) => {
        log = undefined;
        throw error;
      });
      return { registry: nats.natsRegistry(await log), decoder };
    };
    const release = async (): Promise<void> => {
      await (await log?.catch(() => undefined))?.close();
      if (given === undefined) await connection.close();
    };
    return new EpistemeEmmettEventStore(store, hooks, consumers, release);
  } catch (error) {
    if (given === undefined) await connection.close().catch(() => undefined);
    throw error;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
