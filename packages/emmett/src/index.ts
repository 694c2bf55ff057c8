/**
 * @episteme/emmett: Emmett's EventStore interface on Episteme's event
 * store, so that deciders, CommandHandler and Emmett's processors run on an
 * embedded, crash-safe journal. Emmett (`@event-driven-io/emmett`) is a peer
 * dependency. Guide: docs/emmett.md.
 */
export { getEpistemeEventStore } from './getEpistemeEventStore.js';
export type { EpistemeEventStore } from './epistemeEventStore.js';
export type { EpistemeEventStoreOptions, EpistemeEventStoreHooks, EpistemeNatsOptions } from './options.js';
export type { StoreConsumers } from './consumer/processorFeed.js';
export type { EpistemeReadEvent } from './messages.js';
export type {
  EpistemeConsumerOptions,
  EpistemeEventStoreConsumer,
  EpistemeProcessor,
  EpistemeProcessorContext,
  EpistemeProjectorOptions,
  EpistemeReactorOptions,
} from './consumer/consumer.js';
export { EmmettAdapterError, EmmettAdapterErrorCodes, EmmettInvalidArgumentError, isEmmettAdapterError, type EmmettAdapterErrorCode } from './errors.js';
