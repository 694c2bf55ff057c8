import { deletedStreamOf, type Event, type EventDecoder, type RecordedEvent } from '@episteme/store';
import { validateProjection, type EventMeta, type Projection } from '../definition.js';
import type { ProjectionEngine } from '../engine.js';
import { CorruptSnapshotError } from '../errors.js';
import { checkEventProjectionOptions, decoderOf, payloadCodec, type EventSourceOptions } from './eventSource.js';

/** The state of a per-stream projection: one state per stream name. */
export type StreamStates<S> = Map<string, S>;

export interface PerStreamProjectionOptions<S, E extends Event = Event> extends EventSourceOptions {
  /** As a Projection's name: it names the snapshot file and the consumer `projection.<name>`. */
  name: string;
  /** Bump it when `evolve` (or the filter) changes: every stream's state is then rebuilt from offset 0. */
  version: number;
  /** A stream's state before its first event (given the stream's name). */
  initialState: (stream: string) => S;
  /** Pure: a stream's state after one of its events, in stream order. May mutate and return `state`. */
  evolve: (state: S, event: RecordedEvent<E>) => S;
  /** One stream's state to JSON-able data for snapshots (default: the state, which must then be JSON-able). */
  serialize?: (state: S) => unknown;
  /** Inverse of `serialize` (default: the data itself). */
  deserialize?: (data: unknown) => S;
}

/** A per-stream projection, as a Projection the engine runs, with typed reads of its states. */
export interface PerStreamProjection<S> extends Projection<StreamStates<S>, Uint8Array> {
  readonly decoder: EventDecoder;
  /** The state of `stream` in `engine`, or undefined when none of its events was projected (or it was deleted since). */
  stateOf(engine: ProjectionEngine, stream: string): S | undefined;
  /** Every stream's state in `engine` (live: read it, do not change it). */
  streams(engine: ProjectionEngine): ReadonlyMap<string, S>;
}

/**
 * A projection with one state per stream (a read model keyed by
 * aggregate): each stream's events are folded with `evolve` from
 * `initialState(stream)`, as `aggregateStream` would fold them, for every
 * stream the filter selects. A deleted stream's state is dropped (its
 * tombstone is seen here even under a type filter), so a stream created
 * again starts anew. The states are kept in one snapshot, as a JSON object
 * keyed by stream name: a stream named `__proto__` or `constructor` is an
 * ordinary key (a Map in memory, own properties on disk). Bad options throw
 * InvalidProjectionArgumentError here, not at register.
 */
export function perStreamProjection<S, E extends Event = Event>(options: PerStreamProjectionOptions<S, E>): PerStreamProjection<S> {
  checkEventProjectionOptions('perStreamProjection', options);
  const decoder = decoderOf(`perStreamProjection "${String(options.name)}"`, options);
  const { name, version, initialState, evolve } = options;
  const serializeOne = options.serialize;
  const deserializeOne = options.deserialize;
  const prefix = decoder.filter.streamPrefix;
  const states = (engine: ProjectionEngine): StreamStates<S> => engine.query<StreamStates<S>>(name).state;

  const projection: PerStreamProjection<S> = {
    name,
    version,
    initialState: () => new Map(),
    codec: payloadCodec,
    apply(state: StreamStates<S>, payload: Uint8Array, meta: EventMeta): StreamStates<S> {
      const deleted = deletedStreamOf({ offset: meta.offset, payload });
      if (deleted !== undefined) {
        if (prefix === undefined || deleted.startsWith(prefix)) state.delete(deleted);
        return state;
      }
      for (const e of decoder.eventsOf({ offset: meta.offset, payload })) {
        const event = e as RecordedEvent<E>;
        const before = state.has(event.stream) ? (state.get(event.stream) as S) : initialState(event.stream);
        state.set(event.stream, evolve(before, event));
      }
      return state;
    },
    serialize(state: StreamStates<S>): unknown {
      // a null-prototype object: every stream name is an own key, none reaches Object.prototype
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [stream, s] of state) out[stream] = serializeOne ? serializeOne(s) : s;
      return out;
    },
    deserialize(data: unknown): StreamStates<S> {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new CorruptSnapshotError(`projection "${name}"`, 'its per-stream states are not a JSON object');
      }
      const out: StreamStates<S> = new Map();
      // own keys only (JSON.parse makes "__proto__" an own key, never the prototype)
      for (const stream of Object.keys(data)) {
        const s = (data as Record<string, unknown>)[stream];
        out.set(stream, deserializeOne ? deserializeOne(s) : (s as S));
      }
      return out;
    },
    decoder,
    stateOf(engine, stream) {
      return states(engine).get(stream);
    },
    streams: states,
  };
  validateProjection(projection);
  return projection;
}
