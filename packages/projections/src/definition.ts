import { MAX_CONSUMER_NAME_LENGTH, validateConsumerName } from '@episteme/consumers';
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

/**
 * A projection. Its state is saved in snapshots as JSON: it must be
 * JSON-serializable (plain objects, arrays, strings, finite numbers,
 * booleans, null) unless `serialize` and `deserialize` are given. A `Map`,
 * a `Set`, a class instance or a `Date` would come back from a snapshot as
 * something else, a `BigInt` or a cycle cannot be saved at all
 * (`PROJECTION_STATE_NOT_SERIALIZABLE`). Registering checks the top level
 * of `initialState()` only: nested values are the projection's to get right.
 */
export interface Projection<S, E = unknown> {
  /**
   * Letters, digits, `.`, `_`, `-`, starting with a letter or digit; at most
   * MAX_PROJECTION_NAME_LENGTH (53) characters, so that its consumer
   * `projection.<name>` fits in a consumer name. It names files and a consumer.
   */
  name: string;
  /** Bump it when `apply` changes: the state is then rebuilt from offset 0. */
  version: number;
  initialState: () => S;
  /** Pure: the new state after one event. May mutate and return `state` for speed. */
  apply: (state: S, event: E, meta: EventMeta) => S;
  codec?: EventCodec<E>;
  /** State to JSON-able data for snapshots (default: the state itself, which must then be JSON-able). */
  serialize?: (state: S) => unknown;
  /** Inverse of `serialize` (default: the data itself). */
  deserialize?: (data: unknown) => S;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any, any>;

const CONSUMER_PREFIX = 'projection.';

/** The longest projection name whose consumer name (`projection.<name>`) is still a valid consumer name. */
export const MAX_PROJECTION_NAME_LENGTH = MAX_CONSUMER_NAME_LENGTH - CONSUMER_PREFIX.length;

export function validateProjection(p: AnyProjection): void {
  if (!p || typeof p !== 'object') throw new InvalidProjectionArgumentError('a projection is an object');
  try {
    validateConsumerName(p.name);
  } catch (err) {
    throw new InvalidProjectionArgumentError(`projection name: ${(err as Error).message}`);
  }
  if (p.name.length > MAX_PROJECTION_NAME_LENGTH) {
    throw new InvalidProjectionArgumentError(
      `projection name "${p.name}" is longer than ${MAX_PROJECTION_NAME_LENGTH} characters (its consumer, ${CONSUMER_PREFIX}<name>, must fit in ${MAX_CONSUMER_NAME_LENGTH})`,
    );
  }
  if (!Number.isSafeInteger(p.version) || p.version < 0) {
    throw new InvalidProjectionArgumentError(`projection "${p.name}": version must be a non-negative integer`);
  }
  if (typeof p.initialState !== 'function' || typeof p.apply !== 'function') {
    throw new InvalidProjectionArgumentError(`projection "${p.name}": initialState and apply must be functions`);
  }
}

/**
 * Refuses, at registration, an initial state whose top level a JSON snapshot
 * would not keep (a Map saves as `{}`, a BigInt cannot be saved): found here,
 * not after a restart resumed the wrong thing. Once per registration, never
 * per event; nested values are not walked.
 */
export function validateInitialState(p: AnyProjection): void {
  if (p.serialize) return;
  let state: unknown;
  try {
    state = p.initialState();
  } catch (err) {
    throw new InvalidProjectionArgumentError(`projection "${p.name}": initialState() threw: ${err instanceof Error ? err.message : String(err)}`);
  }
  const what = notJsonKind(state);
  if (what) {
    throw new InvalidProjectionArgumentError(
      `projection "${p.name}": its initial state is ${what}, which a snapshot (JSON) does not keep; ` +
        'use plain objects, arrays, strings, numbers, booleans and null, or give serialize and deserialize',
    );
  }
}

function notJsonKind(v: unknown): string | undefined {
  if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') return `a ${typeof v}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (v === null || typeof v !== 'object') return undefined;
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto === null || proto === Object.prototype || proto === Array.prototype) return undefined;
  return `a ${(v as object).constructor?.name ?? 'non-plain object'}`;
}

/** The consumer that holds the log for a projection (cleanup respects it). */
export function consumerNameOf(projection: string): string {
  return `${CONSUMER_PREFIX}${projection}`;
}
