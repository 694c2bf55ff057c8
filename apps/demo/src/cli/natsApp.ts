import { ClusterEventStore, NatsLog } from '@episteme/nats';
import { InMemorySnapshotStore, ProjectionEngine } from '@episteme/projections';
import { UsageError } from '@episteme/wal/cli';
import { AssertionService } from '../app/assertionService.js';
import { PROJECTIONS } from '../app/container.js';
import type { NatsTarget } from './natsOptions.js';

/** The app's projections over a stream (relayed, or the cluster store's), for a query on a machine that has no journal. */
export interface NatsReader {
  log: NatsLog;
  engine: ProjectionEngine;
  close(): Promise<void>;
}

/**
 * Opens the stream read-only and the app's projections over it, with their
 * snapshots in memory and no cursors kept: a query writes nothing to the
 * cluster, it folds the stream from its first message.
 */
export async function openNatsReader(target: NatsTarget, warn: (m: string) => void): Promise<NatsReader> {
  if (target.stream === undefined) throw new UsageError('--nats needs a stream: --nats-stream <name> or EPISTEME_NATS_STREAM');
  const log = await NatsLog.open({ ...target.connect, stream: target.stream });
  const engine = new ProjectionEngine({ log, store: new InMemorySnapshotStore(), snapshotEveryEvents: 50_000, logger: { warn, info: () => undefined } });
  for (const p of PROJECTIONS) engine.register(p);
  return {
    log,
    engine,
    async close() {
      await engine.stop();
      await log.close();
    },
  };
}

/** The app's write path on the event store of the cluster: the same service, another EventStore under it. */
export interface NatsWriter {
  service: AssertionService;
  close(): Promise<void>;
}

export async function openNatsWriter(target: NatsTarget): Promise<NatsWriter> {
  if (target.stream === undefined) throw new UsageError('--nats needs a stream: --nats-stream <name> or EPISTEME_NATS_STREAM');
  const store = await ClusterEventStore.open({ ...target.connect, stream: target.stream });
  return { service: new AssertionService(store), close: () => store.close() };
}
