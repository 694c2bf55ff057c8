import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { Journal } from '@episteme/wal';
import { ConsumerRegistry, type RegistryOptions } from './registry.js';

/** The journal the consumers read; the app registers its opened instance under this token. */
export const JOURNAL: InjectionToken<Journal> = Symbol.for('episteme.Journal');
export const CONSUMER_REGISTRY_OPTIONS: InjectionToken<RegistryOptions> = Symbol.for('episteme.ConsumerRegistryOptions');
export const CONSUMER_REGISTRY: InjectionToken<ConsumerRegistry> = Symbol.for('episteme.ConsumerRegistry');

/**
 * Registers the consumer registry in a tsyringe container: one registry per
 * container, built from the JOURNAL registered there. Library code never
 * touches a global container; the app passes its own.
 */
export function registerConsumers(container: DependencyContainer, options: RegistryOptions = {}): DependencyContainer {
  container.register(CONSUMER_REGISTRY_OPTIONS, { useValue: options });
  let instance: ConsumerRegistry | undefined;
  container.register(CONSUMER_REGISTRY, {
    useFactory: (c) => (instance ??= new ConsumerRegistry(c.resolve(JOURNAL), c.resolve(CONSUMER_REGISTRY_OPTIONS))),
  });
  return container;
}
