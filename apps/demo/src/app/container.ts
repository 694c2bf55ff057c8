import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { CONSUMER_REGISTRY, registerConsumers, type ConsumerRegistry, type Logger } from '@episteme/consumers';
import { PROJECTION_ENGINE, registerProjections, type ProjectionEngine, type SnapshotStore } from '@episteme/projections';
import { JOURNAL, JOURNAL_READER, Journal, type JournalOptions, type JournalReader } from '@episteme/wal';
import { AuditExporter } from '../consumers/auditExport.js';
import { beliefsProjection } from '../projections/beliefs.js';
import { statsProjection } from '../projections/stats.js';
import { AssertionService } from './assertionService.js';
import type { AppConfig } from './config.js';
import { join } from 'node:path';

export const APP_CONFIG: InjectionToken<AppConfig> = Symbol.for('episteme.demo.AppConfig');
export const JOURNAL_OPTIONS: InjectionToken<JournalOptions> = Symbol.for('episteme.demo.JournalOptions');
export const AUDIT_EXPORTER: InjectionToken<AuditExporter> = Symbol.for('episteme.demo.AuditExporter');

export const PROJECTIONS = [beliefsProjection, statsProjection];

/** Journal options from the app's config; a test may register its own JOURNAL_OPTIONS instead. */
export function journalOptionsOf(config: AppConfig): JournalOptions {
  return {
    dir: join(config.dataDir, 'journal'),
    durability: config.durability,
    groupCommit: config.groupCommit,
    maxSegmentBytes: config.maxSegmentBytes,
    maxPayloadBytes: config.maxPayloadBytes,
  };
}

export interface WireOptions {
  logger?: Logger;
  /** Snapshot store override (the CLI's queries over a reader use one that never writes). */
  snapshotStore?: SnapshotStore;
}

/**
 * The composition root of the app as the journal's writer: registers the
 * journal (under JOURNAL), the consumer registry, the projection engine and
 * the app services in the given container. The journal is opened here
 * (opening is async, tsyringe factories are not) from the JOURNAL_OPTIONS
 * registered in the container, or from the config.
 */
export async function wire(container: DependencyContainer, config: AppConfig, options: WireOptions = {}): Promise<DependencyContainer> {
  const journalOptions = registerConfig(container, config);
  container.register(JOURNAL, { useValue: await Journal.open(journalOptions) });
  registerReading(container, options);
  container.register(AssertionService, { useClass: AssertionService });
  // on the journal's FileIO: a test that puts the journal on a simulated disk gets the audit file there too
  container.register(AUDIT_EXPORTER, { useValue: new AuditExporter(join(config.dataDir, 'audit', 'assertions.ndjson'), journalOptions.io) });
  return container;
}

/**
 * The app as a reader in another process than the writer's (the CLI's
 * queries and administration): a JournalReader under JOURNAL_READER, no
 * lock, no recovery. Its registry deletes nothing and the engine keeps no
 * projection cursor (what the reader may do follows from its type); there
 * is no AssertionService to append with.
 */
export async function wireReader(container: DependencyContainer, config: AppConfig, options: WireOptions = {}): Promise<DependencyContainer> {
  const journalOptions = registerConfig(container, config);
  container.register(JOURNAL_READER, { useValue: await Journal.openForRead(journalOptions) });
  registerReading(container, options);
  return container;
}

function registerConfig(container: DependencyContainer, config: AppConfig): JournalOptions {
  container.register(APP_CONFIG, { useValue: config });
  if (!container.isRegistered(JOURNAL_OPTIONS)) container.register(JOURNAL_OPTIONS, { useValue: journalOptionsOf(config) });
  return container.resolve(JOURNAL_OPTIONS);
}

/** The registry and the engine, over whichever journal was registered. */
function registerReading(container: DependencyContainer, options: WireOptions): void {
  const logger = options.logger ?? { warn: (m: string) => process.stderr.write(`warning: ${m}\n`) };
  registerConsumers(container, { logger, autoCleanup: false });
  registerProjections(container, {
    projections: PROJECTIONS,
    ...(options.snapshotStore ? { store: options.snapshotStore } : {}),
    snapshotEveryEvents: 50_000,
    logger,
  });
}

/** Typed accessors over a container wired as the writer. */
export function appOf(container: DependencyContainer): {
  journal: Journal;
  registry: ConsumerRegistry;
  engine: ProjectionEngine;
  service: AssertionService;
  audit: AuditExporter;
  config: AppConfig;
} {
  return {
    journal: container.resolve<Journal>(JOURNAL),
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
