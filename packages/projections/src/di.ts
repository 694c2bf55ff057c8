import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { CONSUMER_REGISTRY } from '@episteme/consumers';
import { JOURNAL, JOURNAL_READER, type Journal, type JournalReader } from '@episteme/wal';
import type { AnyProjection } from './definition.js';
import { ProjectionEngine, type JournalEngineOptions } from './engine.js';

export const PROJECTION_ENGINE: InjectionToken<ProjectionEngine> = Symbol.for('episteme.ProjectionEngine');
export const PROJECTIONS: InjectionToken<AnyProjection[]> = Symbol.for('episteme.Projections');

export type ProjectionWiring = Omit<JournalEngineOptions, 'registry'> & { projections: AnyProjection[] };

/**
 * Registers a ProjectionEngine over the container's journal (the writer
 * under JOURNAL, or else a reader under JOURNAL_READER) and its
 * CONSUMER_REGISTRY (registerConsumers first), with the given projections
 * registered on it. One engine per container.
 */
export function registerProjections(container: DependencyContainer, wiring: ProjectionWiring): DependencyContainer {
  const { projections, ...options } = wiring;
  container.register(PROJECTIONS, { useValue: projections });
  let engine: ProjectionEngine | undefined;
  container.register(PROJECTION_ENGINE, {
    useFactory: (c) => {
      if (!engine) {
        const journal = c.isRegistered(JOURNAL, true) ? c.resolve<Journal>(JOURNAL) : c.resolve<JournalReader>(JOURNAL_READER);
        engine = ProjectionEngine.forJournal(journal, { ...options, registry: c.resolve(CONSUMER_REGISTRY) });
        for (const p of c.resolve(PROJECTIONS)) engine.register(p);
      }
      return engine;
    },
  });
  return container;
}
