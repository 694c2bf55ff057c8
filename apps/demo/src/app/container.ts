import type { DependencyContainer } from 'tsyringe';
import { CONSUMER_REGISTRY, ConsumerRegistry, type Logger } from '@episteme/consumers';
import { PROJECTION_ENGINE, ProjectionEngine, type SnapshotStore } from '@episteme/projections';
import type { LocalEventStore } from '@episteme/store';
import { JOURNAL_READER, Journal, type JournalOptions, type JournalReader } from '@episteme/wal';
import { join } from 'node:path';
import { AuditExporter } from '../consumers/auditExport.js';
import { beliefsProjection } from '../projections/beliefs.js';
import { statsProjection } from '../projections/stats.js';
import { AssertionService } from './assertionService.js';
import type { AppConfig } from './config.js';
import { holdsLegacyData, LegacyDataError, openAppStore } from './openStore.js';
import { APP_CONFIG, AUDIT_EXPORTER, EVENT_STORE, JOURNAL_OPTIONS } from './tokens.js';

export { APP_CONFIG, AUDIT_EXPORTER, EVENT_STORE, JOURNAL_OPTIONS } from './tokens.js';

export const PROJECTIONS = [beliefsProjection, statsProjection];

/** Journal options from the app's config; a test may register its own JOURNAL_OPTIONS instead. */
export function journalOptionsOf(config: AppConfig): JournalOptions {
  return {
    dir: join(config.dataDir, 'journal'),
    durability: config.durability,
    groupCommit: config.groupCommit,
    maxSegmentBytes: config.maxSegmentBytes,
    maxPayloadBytes: config.maxPayloadBytes,
    // cleanup moves what every consumer and projection passed here, and reads go on through it
    archiveDir: join(config.dataDir, 'archive'),
  };
}

export interface WireOptions {
  logger?: Logger;
  /** Snapshot store override (the CLI's queries over a reader use one that never writes). */
  snapshotStore?: SnapshotStore;
  /** Told once when the writer lock is held by another process and the open waits for it (config.lockWaitMs). */
  onLockWait?: (message: string) => void;
}

const stderrLogger: Logger = { warn: (m: string) => void process.stderr.write(`warning: ${m}\n`) };

/**
 * The composition root of the app as the writer: opens the event store on
 * the journal (its writer: the lock, recovery, the stream index) and
 * registers it under EVENT_STORE, the consumer registry and the projection
 * engine over its log, and the app services, in the given container. The
 * store is opened here (opening is async, tsyringe factories are not) from
 * the JOURNAL_OPTIONS registered in the container, or from the config.
 */
export async function wire(container: DependencyContainer, config: AppConfig, options: WireOptions = {}): Promise<DependencyContainer> {
  const journalOptions = registerConfig(container, config);
  const logger = options.logger ?? stderrLogger;
  const store = await openAppStore(
    { ...journalOptions, onWarning: (w) => logger.warn(w.message) },
    { lockWaitMs: config.lockWaitMs, ...(options.onLockWait ? { onLockWait: options.onLockWait } : {}) },
  );
  container.register(EVENT_STORE, { useValue: store });
  registerReading(
    container,
    () => ConsumerRegistry.forStore(store, { logger, ...(journalOptions.io ? { io: journalOptions.io } : {}) }),
    (registry) => ProjectionEngine.forStore(store, engineOptions(registry, journalOptions, logger, options.snapshotStore)),
  );
  container.register(AssertionService, { useClass: AssertionService });
  // on the journal's FileIO: a test that puts the journal on a simulated disk gets the audit file there too
  container.register(AUDIT_EXPORTER, { useValue: new AuditExporter(join(config.dataDir, 'audit', 'assertions.ndjson'), journalOptions.io) });
  return container;
}

/**
 * The app as a reader in another process than the writer's (the CLI's
 * queries and administration): a JournalReader under JOURNAL_READER, no
 * lock, no recovery, no file changed by the open. There is no store and no
 * AssertionService to append with (what the reader may do follows from its
 * type); the registry and the engine read the same log.
 */
export async function wireReader(container: DependencyContainer, config: AppConfig, options: WireOptions = {}): Promise<DependencyContainer> {
  const journalOptions = registerConfig(container, config);
  const reader = await Journal.openForRead(journalOptions);
  if (holdsLegacyData(reader)) {
    await reader.close();
    throw new LegacyDataError(journalOptions.dir);
  }
  container.register(JOURNAL_READER, { useValue: reader });
  const logger = options.logger ?? stderrLogger;
  registerReading(
    container,
    () => ConsumerRegistry.forJournal(reader, { logger, autoCleanup: false, ...(journalOptions.io ? { io: journalOptions.io } : {}) }),
    (registry) => ProjectionEngine.forJournal(reader, engineOptions(registry, journalOptions, logger, options.snapshotStore)),
  );
  return container;
}

function registerConfig(container: DependencyContainer, config: AppConfig): JournalOptions {
  container.register(APP_CONFIG, { useValue: config });
  if (!container.isRegistered(JOURNAL_OPTIONS)) container.register(JOURNAL_OPTIONS, { useValue: journalOptionsOf(config) });
  return container.resolve(JOURNAL_OPTIONS);
}

/**
 * The registry and the engine, made on first need, with the app's
 * projections registered. Over the store (the writer), the registry is the
 * store's (ConsumerRegistry.forStore): its automatic cleanup moves the
 * segments every consumer passed to `<data>/archive`, where the stream
 * index and rebuilds still read them; over a reader, it administers
 * cursors and moves nothing.
 */
function registerReading(container: DependencyContainer, makeRegistry: () => ConsumerRegistry, makeEngine: (registry: ConsumerRegistry) => ProjectionEngine): void {
  let registry: ConsumerRegistry | undefined;
  let engine: ProjectionEngine | undefined;
  container.register(CONSUMER_REGISTRY, { useFactory: () => (registry ??= makeRegistry()) });
  container.register(PROJECTION_ENGINE, {
    useFactory: (c) => {
      if (!engine) {
        engine = makeEngine(c.resolve(CONSUMER_REGISTRY));
        for (const p of PROJECTIONS) engine.register(p);
      }
      return engine;
    },
  });
}

function engineOptions(registry: ConsumerRegistry, journal: JournalOptions, logger: Logger, store: SnapshotStore | undefined) {
  return { registry, snapshotEveryEvents: 50_000, logger, ...(store ? { store } : {}), ...(journal.io ? { io: journal.io } : {}) };
}

/** Typed accessors over a container wired as the writer. */
export function appOf(container: DependencyContainer): {
  store: LocalEventStore;
  registry: ConsumerRegistry;
  engine: ProjectionEngine;
  service: AssertionService;
  audit: AuditExporter;
  config: AppConfig;
} {
  return {
    store: container.resolve(EVENT_STORE),
    registry: container.resolve(CONSUMER_REGISTRY),
    engine: container.resolve(PROJECTION_ENGINE),
    service: container.resolve(AssertionService),
    audit: container.resolve(AUDIT_EXPORTER),
    config: container.resolve(APP_CONFIG),
  };
}

/** Typed accessors over a container wired as a reader. */
export function readerAppOf(container: DependencyContainer): {
  journal: JournalReader;
  registry: ConsumerRegistry;
  engine: ProjectionEngine;
  config: AppConfig;
} {
  return {
    journal: container.resolve<JournalReader>(JOURNAL_READER),
    registry: container.resolve(CONSUMER_REGISTRY),
    engine: container.resolve(PROJECTION_ENGINE),
    config: container.resolve(APP_CONFIG),
  };
}
