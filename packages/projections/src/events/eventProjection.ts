import type { Event, EventDecoder, RecordedEvent } from '@episteme/store';
import { validateProjection, type EventMeta, type Projection } from '../definition.js';
import type { ProjectionEngine } from '../engine.js';
import { checkEventProjectionOptions, decoderOf, payloadCodec, type EventSourceOptions } from './eventSource.js';

export interface EventProjectionOptions<S, E extends Event = Event> extends EventSourceOptions {
  /** As a Projection's name: it names the snapshot file and the consumer `projection.<name>`. */
  name: string;
  /** Bump it when `evolve` (or the filter) changes: the state is then rebuilt from offset 0. */
  version: number;
  initialState: () => S;
  /**
   * Pure: the state after one event. Events come in global order, those of
   * one commit together. May mutate and return `state` for speed.
   */
  evolve: (state: S, event: RecordedEvent<E>) => S;
  /** As a Projection's: state to JSON-able data for snapshots (default: the state, which must then be JSON-able). */
  serialize?: (state: S) => unknown;
  deserialize?: (data: unknown) => S;
}

/** A projection of a store's events, as a Projection the engine runs, with a typed read of its state. */
export interface EventProjection<S> extends Projection<S, Uint8Array> {
  /** The decoder it reads the store's records with. */
  readonly decoder: EventDecoder;
  /** Its current state in `engine` (where it is registered): `engine.query(name).state`, typed. */
  stateOf(engine: ProjectionEngine): S;
}

/**
 * A projection over an event store's events: one state for the whole
 * store (or the part the filter selects), folded with `evolve` in global
 * order. It is a plain Projection (run by `ProjectionEngine` unchanged:
 * checkpoints are positions in the store's log, a snapshot holds the state):
 * its `apply` decodes each commit record and folds the events it holds.
 * Bad options throw InvalidProjectionArgumentError here, not at register.
 */
export function eventProjection<S, E extends Event = Event>(options: EventProjectionOptions<S, E>): EventProjection<S> {
  checkEventProjectionOptions('eventProjection', options);
  const decoder = decoderOf(`eventProjection "${String(options.name)}"`, options);
  const { name, version, initialState, evolve, serialize, deserialize } = options;
  const projection: EventProjection<S> = {
    name,
    version,
    initialState,
    codec: payloadCodec,
    apply(state: S, payload: Uint8Array, meta: EventMeta): S {
      for (const event of decoder.eventsOf({ offset: meta.offset, payload })) state = evolve(state, event as RecordedEvent<E>);
      return state;
    },
    ...(serialize ? { serialize } : {}),
    ...(deserialize ? { deserialize } : {}),
    decoder,
    stateOf: (engine) => engine.query<S>(name).state,
  };
  validateProjection(projection);
  return projection;
}
