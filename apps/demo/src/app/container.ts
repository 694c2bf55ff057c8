import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { CONSUMER_REGISTRY, JOURNAL, registerConsumers, type ConsumerRegistry, type Logger } from '@episteme/consumers';
import { FileSnapshotStore, PROJECTION_ENGINE, registerProjections, type ProjectionEngine, type SnapshotStore } from '@episteme/projections';
import { Journal, type JournalOptions } from '@episteme/wal';
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
  readOnly?: boolean;
  logger?: Logger;
  /** Snapshot store override (read-only CLI queries use one that never writes). */
  snapshotStore?: SnapshotStore;
}

/**
 * The composition root: registers the journal, the consumer registry, the
 * projection engine and the app services in the given container. The
 * journal is opened here (opening is async, tsyringe factories are not) from
 * the JOURNAL_OPTIONS registered in the container, or from the config.
 */
export async function wire(container: DependencyContainer, config: AppConfig, options: WireOptions = {}): Promise<DependencyContainer> {
  container.register(APP_CONFIG, { useValue: config });
  if (!container.isRegistered(JOURNAL_OPTIONS)) container.register(JOURNAL_OPTIONS, { useValue: journalOptionsOf(config) });
  const journalOptions = container.resolve(JOURNAL_OPTIONS);
  // read mode opens a reader (no lock, no recovery); registered under the
  // writer's token until the wiring reads through LogReader (transitional:
  // the consumers and projections check which one they were given)
  const journal = options.readOnly ? ((await Journal.openForRead(journalOptions)) as unknown as Journal) : await Journal.open(journalOptions);
  container.register(JOURNAL, { useValue: journal });
  const logger = options.logger ?? { warn: (m: string) => process.stderr.write(`warning: ${m}\n`) };
  registerConsumers(container, { logger, autoCleanup: false });
  registerProjections(container, {
    projections: PROJECTIONS,
    store: options.snapshotStore ?? new FileSnapshotStore(journal.dir),
    snapshotEveryEvents: 50_000,
    logger,
  });
  container.register(AssertionService, { useClass: AssertionService });
  // on the journal's FileIO: a test that puts the journal on a simulated disk gets the audit file there too
  container.register(AUDIT_EXPORTER, { useValue: new AuditExporter(join(config.dataDir, 'audit', 'assertions.ndjson'), container.resolve(JOURNAL_OPTIONS).io) });
  return container;
}

/** Typed accessors over a wired container. */
export function appOf(container: DependencyContainer): {
  journal: Journal;
  registry: ConsumerRegistry;
  engine: ProjectionEngine;
  service: AssertionService;
  audit: AuditExporter;
  config: AppConfig;
} {
  return {
    journal: container.resolve(JOURNAL),
    registry: container.resolve(CONSUMER_REGISTRY),
    engine: container.resolve(PROJECTION_ENGINE),
    service: container.resolve(AssertionService),
    audit: container.resolve(AUDIT_EXPORTER),
    config: container.resolve(APP_CONFIG),
  };
}
