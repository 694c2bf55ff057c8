import { validateConsumerName } from '@episteme/consumers';
import { InvalidProjectionArgumentError } from './errors.js';

/**
 * What a projection knows about the record an event came from. The engine
 * passes the journal's record itself (it has these fields, and its payload):
 * read it, do not change it.
 */
export interface EventMeta {
  offset: number;
  /** Offset of the next record: the checkpoint once this event is applied. */
  next: number;
  /** BLAKE3 of the payload (the record's content address), 32 bytes. */
  blake3: Uint8Array;
}

/** Turns payloads into events. JSON by default. */
export interface EventCodec<E> {
  decode(payload: Uint8Array): E;
  encode(event: E): Uint8Array;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export const jsonCodec: EventCodec<unknown> = {
  decode: (payload) => JSON.parse(decoder.decode(payload)) as unknown,
  encode: (event) => encoder.encode(JSON.stringify(event)),
};

export interface Projection<S, E = unknown> {
  /** Letters, digits, `.`, `_`, `-` (it names files and a consumer). */
  name: string;
  /** Bump it when `apply` changes: the state is then rebuilt from offset 0. */
  version: number;
  initialState: () => S;
  /** Pure: the new state after one event. May mutate and return `state` for speed. */
  apply: (state: S, event: E, meta: EventMeta) => S;
  codec?: EventCodec<E>;
  /** State to JSON-able data for snapshots (default: the state itself). */
  serialize?: (state: S) => unknown;
  /** Inverse of `serialize` (default: the data itself). */
  deserialize?: (data: unknown) => S;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any, any>;

export function validateProjection(p: AnyProjection): void {
  if (!p || typeof p !== 'object') throw new InvalidProjectionArgumentError('a projection is an object');
  try {
    validateConsumerName(p.name);
  } catch (err) {
    throw new InvalidProjectionArgumentError(`projection name: ${(err as Error).message}`);
  }
  if (!Number.isSafeInteger(p.version) || p.version < 0) {
    throw new InvalidProjectionArgumentError(`projection "${p.name}": version must be a non-negative integer`);
  }
  if (typeof p.initialState !== 'function' || typeof p.apply !== 'function') {
    throw new InvalidProjectionArgumentError(`projection "${p.name}": initialState and apply must be functions`);
  }
}

/** The consumer that holds the log for a projection (cleanup respects it). */
export function consumerNameOf(projection: string): string {
  return `projection.${projection}`;
}
