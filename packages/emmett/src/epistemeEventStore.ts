import {
  assertExpectedVersionMatchesCurrent,
  ExpectedVersionConflictError,
  NO_CONCURRENCY_CHECK,
  tryPublishMessagesAfterCommit,
  upcastRecordedMessage,
  type AggregateStreamOptions,
  type AggregateStreamResultWithGlobalPosition,
  type AppendToStreamOptions,
  type AppendToStreamResultWithGlobalPosition,
  type Event as EmmettEvent,
  type EventStore as EmmettEventStore,
  type ReadEventMetadataWithGlobalPosition,
  type ReadStreamOptions,
  type ReadStreamResult,
} from '@event-driven-io/emmett';
import { isStoreError, StoreErrorCodes, type Event as StoreEvent, type EventStore, type VersionConflictError } from '@episteme/store';
import { describeValue } from '@episteme/store/internals';
import { createConsumer, type EpistemeConsumerOptions, type EpistemeEventStoreConsumer } from './consumer/consumer.js';
import { consumersOf, registryProcessorFeed, type ProcessorFeed, type StoreConsumers } from './consumer/processorFeed.js';
import { EmmettInvalidArgumentError } from './errors.js';
import { checkExpectedStreamVersion, toStoreExpectedVersion } from './expectedVersion.js';
import { toEmmettGlobalPosition, toReadEvent, toStoreEvents, type EpistemeReadEvent } from './messages.js';
import type { EpistemeEventStoreHooks } from './options.js';
import { toStoreRange } from './readRange.js';

type Versioning = Parameters<typeof upcastRecordedMessage>[1];

/**
 * Emmett's EventStore on an Episteme event store. Global positions are
 * bigints from 1 (the store's log position plus 1); stream positions are the
 * store's, from 1; a conflict is Emmett's ExpectedVersionConflictError
 * naming the stream's actual version.
 */
export interface EpistemeEventStore extends EmmettEventStore<ReadEventMetadataWithGlobalPosition> {
  appendToStream<EventType extends EmmettEvent, EventPayloadType extends EmmettEvent = EventType>(
    streamName: string,
    events: EventType[],
    options?: AppendToStreamOptions<bigint, EventType, EventPayloadType>,
  ): Promise<AppendToStreamResultWithGlobalPosition>;
  aggregateStream<State, EventType extends EmmettEvent, EventPayloadType extends EmmettEvent = EventType>(
    streamName: string,
    options: AggregateStreamOptions<State, EventType, ReadEventMetadataWithGlobalPosition, EventPayloadType>,
  ): Promise<AggregateStreamResultWithGlobalPosition<State>>;
  /** A consumer of every event of the store, in global order, for Emmett's processors (projectors and reactors) with durable checkpoints. */
  consumer(options?: EpistemeConsumerOptions): EpistemeEventStoreConsumer;
  /** The Episteme event store underneath. */
  readonly store: EventStore;
  /** Stops this store's consumers and closes the store (its journal). */
  close(): Promise<void>;
}

export class EpistemeEmmettEventStore implements EpistemeEventStore {
  private readonly consumers = new Set<EpistemeEventStoreConsumer>();
  /** Made when the first processor runs: the cursor registry of the store. */
  private feed: Promise<ProcessorFeed> | undefined;

  /**
   * `consumersGiven`: the store's cursors and decoder, or how to open them
   * when a processor first needs them (the cluster's log); `release`: what
   * closes after the store (the cluster's log and connection).
   */
  constructor(
    readonly store: EventStore,
    private readonly hooks: EpistemeEventStoreHooks = {},
    private readonly consumersGiven?: StoreConsumers | (() => Promise<StoreConsumers>),
    private readonly release: () => Promise<void> = async () => undefined,
  ) {}

  async appendToStream<EventType extends EmmettEvent, EventPayloadType extends EmmettEvent = EventType>(
    streamName: string,
    events: EventType[],
    options?: AppendToStreamOptions<bigint, EventType, EventPayloadType>,
  ): Promise<AppendToStreamResultWithGlobalPosition> {
    const expectedVersion = toStoreExpectedVersion(options?.expectedStreamVersion);
    const storeEvents = toStoreEvents(streamName, events, options?.schema?.versioning as never, this.hooks.onAfterCommit !== undefined);
    let appended;
    try {
      appended = await this.store.appendToStream(streamName, storeEvents, { expectedVersion });
    } catch (err) {
      if (isStoreError(err, StoreErrorCodes.VersionConflict)) {
        throw new ExpectedVersionConflictError(BigInt((err as VersionConflictError).actual), options?.expectedStreamVersion ?? NO_CONCURRENCY_CHECK);
      }
      throw err;
    }
    const result = {
      nextExpectedStreamVersion: BigInt(appended.nextExpectedVersion),
      createdNewStream: appended.createdStream,
      lastEventGlobalPosition: toEmmettGlobalPosition(appended.globalPosition),
    };
    if (this.hooks.onAfterCommit) await tryPublishMessagesAfterCommit(this.committed(streamName, events, storeEvents, result), this.hooks as never);
    return result;
  }

  async readStream<EventType extends EmmettEvent, EventPayloadType extends EmmettEvent = EventType>(
    streamName: string,
    options?: ReadStreamOptions<bigint, EventType, EventPayloadType>,
  ): Promise<ReadStreamResult<EventType, ReadEventMetadataWithGlobalPosition>> {
    const expected = checkExpectedStreamVersion(options?.expectedStreamVersion);
    const read = await this.store.readStream(streamName, toStoreRange(options));
    const currentStreamVersion = BigInt(read.currentVersion);
    assertExpectedVersionMatchesCurrent(currentStreamVersion, expected, 0n);
    const versioning = options?.schema?.versioning as Versioning;
    const events = read.events.map((e) => (versioning?.upcast ? upcastRecordedMessage(toReadEvent(e) as never, versioning) : toReadEvent(e)));
    return {
      currentStreamVersion,
      events: events as EpistemeReadEvent<EventType>[],
      streamExists: read.currentVersion > 0,
    };
  }

  async aggregateStream<State, EventType extends EmmettEvent, EventPayloadType extends EmmettEvent = EventType>(
    streamName: string,
    options: AggregateStreamOptions<State, EventType, ReadEventMetadataWithGlobalPosition, EventPayloadType>,
  ): Promise<AggregateStreamResultWithGlobalPosition<State>> {
    const { evolve, initialState, read } = (options ?? {}) as Partial<typeof options>;
    if (typeof evolve !== 'function' || typeof initialState !== 'function') {
      throw new EmmettInvalidArgumentError(`aggregateStream needs the functions evolve and initialState (got ${describeValue(evolve)}, ${describeValue(initialState)})`);
    }
    const result = await this.readStream<EventType, EventPayloadType>(streamName, read);
    let state = initialState();
    for (const e of result.events) state = (evolve as (s: State, e: unknown) => State)(state, e);
    const last = result.events[result.events.length - 1];
    // as Emmett's in-memory store counts it: the number of events folded (the stream's version for a whole read)
    const currentStreamVersion = BigInt(result.events.length);
    if (!result.streamExists || last === undefined) return { currentStreamVersion, state, streamExists: false } as AggregateStreamResultWithGlobalPosition<State>;
    return { currentStreamVersion, state, streamExists: true, lastEventGlobalPosition: last.metadata.globalPosition };
  }

  streamExists(streamName: string): Promise<boolean> {
    return this.store.streamExists(streamName);
  }

  consumer(options?: EpistemeConsumerOptions): EpistemeEventStoreConsumer {
    const consumer = createConsumer(this, () => this.processorFeed(), options, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    for (const c of [...this.consumers]) await c.close();
    try {
      await this.store.close();
    } finally {
      await this.release();
    }
  }

  private processorFeed(): Promise<ProcessorFeed> {
    const given = this.consumersGiven;
    this.feed ??= (typeof given === 'function' ? given() : Promise.resolve().then(() => consumersOf(this.store, given))).then(registryProcessorFeed, (error: unknown) => {
      this.feed = undefined; // tried again by the next processor (a cluster down at the time)
      throw error;
    });
    return this.feed;
  }

  /** The events of a commit as read back, for onAfterCommit (built only when the hook is set). */
  private committed(streamName: string, events: EmmettEvent[], stored: StoreEvent[], result: AppendToStreamResultWithGlobalPosition): EpistemeReadEvent[] {
    const n = events.length;
    return events.map((e, i) => ({
      ...e,
      kind: 'Event',
      metadata: {
        ...((e as { metadata?: object }).metadata ?? {}),
        streamName,
        messageId: stored[i]!.id!,
        streamPosition: result.nextExpectedStreamVersion - BigInt(n - 1 - i),
        globalPosition: result.lastEventGlobalPosition - BigInt(n - 1 - i),
      },
    })) as EpistemeReadEvent[];
  }
}
