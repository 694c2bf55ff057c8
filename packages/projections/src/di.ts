import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { CONSUMER_REGISTRY, JOURNAL } from '@episteme/consumers';
import type { AnyProjection } from './definition.js';
import { ProjectionEngine, type EngineOptions } from './engine.js';

export const PROJECTION_ENGINE: InjectionToken<ProjectionEngine> = Symbol.for('episteme.ProjectionEngine');
export const PROJECTIONS: InjectionToken<AnyProjection[]> = Symbol.for('episteme.Projections');

export type ProjectionWiring = Omit<EngineOptions, 'journal' | 'registry'> & { projections: AnyProjection[] };

/**
 * Registers a ProjectionEngine built from the container's JOURNAL and
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
        engine = new ProjectionEngine({ ...options, journal: c.resolve(JOURNAL), registry: c.resolve(CONSUMER_REGISTRY) });
        for (const p of c.resolve(PROJECTIONS)) engine.register(p);
      }
      return engine;
    },
  });
  return container;
}
