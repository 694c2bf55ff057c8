import { ConsumerRegistry, runConsumer, type RunResult } from '@episteme/consumers';
import type { EventDecoder, EventStore, LocalEventStore } from '@episteme/store';
import type { CurrentMessageProcessorPosition } from '@event-driven-io/emmett';
import { EmmettAdapterError, EmmettAdapterErrorCodes } from '../errors.js';
import { toReadEvent, type EpistemeReadEvent } from '../messages.js';

/** What a processor's run is given: one commit's events at a time, in global order. */
export type CommitHandler = (messages: EpistemeReadEvent[]) => Promise<void>;

export interface FeedRunOptions {
  handler: CommitHandler;
  signal: AbortSignal;
  /** Commits read at a time. */
  batchSize: number;
  /** Stop at the head (Emmett's `stopWhen: { noMessagesLeft: true }`). */
  stopAtHead: boolean;
}

/**
 * Where processors' events and checkpoints come from: the store's log and
 * durable cursors. A cursor is a log position, at a commit's start; as an
 * Emmett checkpoint (a global position, bigint from 1, every event at or
 * below it handled) it is the cursor itself, since the events of the commit
 * at log position p have Emmett positions p + 1 and up.
 */
export interface ProcessorFeed {
  /** The processor's checkpoint, or null when it has none yet. */
  checkpoint(name: string): bigint | null;
  /**
   * Moves the processor's cursor to where Emmett's start position says and
   * returns the Emmett position at or below which events are still to be
   * skipped (a checkpoint inside a commit, or behind the cursor), if any.
   */
  position(name: string, start: CurrentMessageProcessorPosition<bigint>): bigint | undefined;
  run(name: string, options: FeedRunOptions): Promise<RunResult>;
}

/** A store with a local log and cursor files beside it (what `openEventStore` returns). */
function isLocalStore(store: EventStore): store is LocalEventStore {
  const s = store as Partial<LocalEventStore>;
  return typeof s.dir === 'string' && typeof s.decoder === 'function' && typeof s.log?.readMany === 'function';
}

/**
 * Where a store's processors get their cursors and events: a registry of
 * consumers over the store's log, and the decoder of its records. An
 * embedded store has both beside it; another implementation of the store
 * (the cluster's) gives its own through `getEpistemeEventStore({ store, consumers })`.
 */
export interface StoreConsumers {
  registry: ConsumerRegistry;
  decoder: EventDecoder;
}

/** The consumers of a store: given, or the embedded store's own (cursor files in `<dir>/consumers/`). */
export function consumersOf(store: EventStore, given: StoreConsumers | undefined): StoreConsumers {
  if (given) return given;
  if (!isLocalStore(store)) {
    throw new EmmettAdapterError(
      EmmettAdapterErrorCodes.ConsumerUnsupported,
      'consumer() needs durable cursors over the store\'s log: an embedded store (getEpistemeEventStore({ dir })), or { store, consumers: { registry, decoder } }',
    );
  }
  return { registry: ConsumerRegistry.forStore(store), decoder: store.decoder() };
}

/**
 * The feed of a registry: runConsumer over its log, each record decoded
 * into its commit's events. Valid for any log whose events' global
 * positions are their record's position plus their index in the commit,
 * with records further apart than their event counts (the journal's byte
 * offsets; the cluster's sequence × 65536).
 */
export function registryProcessorFeed({ registry, decoder }: StoreConsumers): ProcessorFeed {
  return {
    checkpoint: (name) => (registry.has(name) ? BigInt(registry.get(name).cursor) : null),
    position(name, start) {
      const has = registry.has(name);
      if (start === 'BEGINNING' || start === 'END') {
        const to = start === 'BEGINNING' ? 'earliest' : 'latest';
        if (has) registry.reset(name, to);
        else registry.register(name, { startFrom: to });
        return undefined;
      }
      const after = start.lastCheckpoint;
      if (has && BigInt(registry.get(name).cursor) <= after) return after;
      // a checkpoint behind the cursor (or no cursor yet): from the start, skipping what it covers
      if (has) registry.reset(name, 'earliest');
      else registry.register(name, { startFrom: 'earliest' });
      return after;
    },
    run: (name, { handler, signal, batchSize, stopAtHead }) =>
      runConsumer(registry, name, {
        batchSize,
        signal,
        stopAtHead,
        handler: (record) => {
          const events = decoder.eventsOf(record);
          return events.length === 0 ? undefined : handler(events.map(toReadEvent));
        },
      }),
  };
}
