import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { JOURNAL, JOURNAL_READER, type Journal, type JournalReader } from '@episteme/wal';
import { ConsumerRegistry, type JournalRegistryOptions } from './registry.js';

export const CONSUMER_REGISTRY_OPTIONS: InjectionToken<JournalRegistryOptions> = Symbol.for('episteme.ConsumerRegistryOptions');
export const CONSUMER_REGISTRY: InjectionToken<ConsumerRegistry> = Symbol.for('episteme.ConsumerRegistry');

/**
 * Registers the consumer registry in a tsyringe container: one registry per
 * container, over the journal registered there (`@episteme/wal`'s tokens):
 * the writer under JOURNAL, or else a reader under JOURNAL_READER, and the
 * registry does what the one it is given may (ConsumerRegistry.forJournal).
 * Library code never touches a global container; the app passes its own.
 */
export function registerConsumers(container: DependencyContainer, options: JournalRegistryOptions = {}): DependencyContainer {
  container.register(CONSUMER_REGISTRY_OPTIONS, { useValue: options });
  let instance: ConsumerRegistry | undefined;
  container.register(CONSUMER_REGISTRY, {
    useFactory: (c) => {
      const journal = c.isRegistered(JOURNAL, true) ? c.resolve<Journal>(JOURNAL) : c.resolve<JournalReader>(JOURNAL_READER);
      return (instance ??= ConsumerRegistry.forJournal(journal, c.resolve(CONSUMER_REGISTRY_OPTIONS)));
    },
  });
  return container;
}
