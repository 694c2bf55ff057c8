/**
 * The event store's public types: events as the app gives them and as it
 * reads them back, expected versions, and the results of each operation.
 * Nothing here names a byte offset or a file: the scale-out issue gives the
 * same EventStore a second implementation on a cluster.
 */

/** Data an event may carry: anything JSON can encode, or raw bytes (stored as they are). */
export type EventData = unknown;
export type EventMetadata = Record<string, unknown>;

/**
 * An event as the app gives it. `id` is the event id (given for idempotent
 * retries, generated as a UUID v7 otherwise). Unions of events discriminate
 * on `type`.
 */
export interface Event<Type extends string = string, Data = EventData, Metadata extends EventMetadata | undefined = EventMetadata | undefined> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata?: Metadata;
  readonly id?: string;
}

/** What the store adds to an event it returns. */
export interface RecordedFields {
  /** The event id (given or generated). */
  readonly id: string;
  readonly stream: string;
  /** The event's position in its stream, from 1 (a stream's version is its last event's position). */
  readonly streamPosition: number;
  /** The event's global position: increasing in the order of the log, not dense (docs/streams.md). */
  readonly globalPosition: number;
  /** When the commit was appended. */
  readonly recordedAt: Date;
}

/** An event read back; distributes over unions, so a `switch (e.type)` narrows `data`. */
export type RecordedEvent<E extends Event = Event> = E extends Event<infer T, infer D, infer M>
  ? { readonly type: T; readonly data: D; readonly metadata: M | undefined } & RecordedFields
  : never;

/**
 * The version an append or delete expects: the stream's version as the
 * caller read it (0: no stream), `'no_stream'`, `'stream_exists'`, or
 * `'any'` (no check; the default).
 */
export type ExpectedVersion = number | 'no_stream' | 'stream_exists' | 'any';

export interface AppendOptions {
  expectedVersion?: ExpectedVersion;
  /** Allow appending to a deleted stream: it starts again at version 1. */
  recreate?: boolean;
}

export interface AppendResult {
  /** The stream's version after the commit (its last event's position). */
  readonly nextExpectedVersion: number;
  /** The global position of the commit's last event. */
  readonly globalPosition: number;
  /** True when the commit created the stream (its first event is at position 1). */
  readonly createdStream: boolean;
  /** True when this was a retry of a commit already in the log: nothing was written. */
  readonly alreadyAppended?: true;
}

export interface ReadStreamOptions {
  /** First stream position to return (default 1). */
  from?: number;
  /** Last stream position to return, inclusive (default: the stream's version). */
  to?: number;
  /** At most this many events. */
  maxCount?: number;
}

export interface ReadStreamResult<E extends Event = Event> {
  readonly events: RecordedEvent<E>[];
  /** The stream's version (0 when it does not exist). */
  readonly currentVersion: number;
  readonly streamExists: boolean;
}

export interface AggregateStreamOptions<State, E extends Event = Event> {
  initialState: () => State;
  evolve: (state: State, event: RecordedEvent<E>) => State;
  /** Fold only events up to this stream position (default: all). */
  to?: number;
}

export interface AggregateStreamResult<State> {
  readonly state: State;
  readonly currentVersion: number;
  readonly streamExists: boolean;
}

export interface DeleteStreamOptions {
  expectedVersion?: ExpectedVersion;
}

export interface DeleteStreamResult {
  /** The global position of the tombstone. */
  readonly globalPosition: number;
}

/**
 * Turns an event of an older schema into the current one, at read time
 * (the log is never rewritten). Registered per event type; the result may
 * carry another type, whose upcaster then runs too. A result without a
 * `metadata` key keeps the event's metadata.
 */
export type Upcaster = (event: { type: string; data: unknown; metadata: EventMetadata | undefined }) => {
  type: string;
  data: unknown;
  metadata?: EventMetadata | undefined;
};

/** The event store: one implementation on a local journal (`openEventStore`). */
export interface EventStore {
  appendToStream<E extends Event>(stream: string, events: readonly E[], options?: AppendOptions): Promise<AppendResult>;
  readStream<E extends Event = Event>(stream: string, options?: ReadStreamOptions): Promise<ReadStreamResult<E>>;
  aggregateStream<State, E extends Event = Event>(stream: string, options: AggregateStreamOptions<State, E>): Promise<AggregateStreamResult<State>>;
  streamExists(stream: string): Promise<boolean>;
  /** Every event with a global position at or after `fromPosition` (default 0), in global order, up to the head at the call. */
  readAll<E extends Event = Event>(fromPosition?: number): AsyncIterable<RecordedEvent<E>>;
  deleteStream(stream: string, options?: DeleteStreamOptions): Promise<DeleteStreamResult>;
  close(): Promise<void>;
}
