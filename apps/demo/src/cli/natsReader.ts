import { NatsLog } from '@episteme/nats';
import { InMemorySnapshotStore, ProjectionEngine } from '@episteme/projections';
import { UsageError } from '@episteme/wal/cli';
import { PROJECTIONS } from '../app/container.js';
import type { NatsTarget } from './natsOptions.js';

/** The app's projections over a relayed stream, for a query on a machine that has no journal. */
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
