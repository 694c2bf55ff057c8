import { createEventDecoder, isStoreError, type EventDecoder, type EventFilter, type Upcaster } from '@episteme/store';
import type { EventCodec } from '../definition.js';
import { InvalidProjectionArgumentError } from '../errors.js';

/** Where a projection of a store gets its events: a decoder, or the filter and upcasters to make one. */
export interface EventSourceOptions {
  /**
   * The store's decoder, `store.decoder(filter?)`: the store's upcasters
   * with a filter. Or give `filter` and `upcasters` (the store's), for a
   * projection declared where the store is not at hand.
   */
  decoder?: EventDecoder;
  /** Which events the projection receives (by stream name prefix, by type as read). */
  filter?: EventFilter;
  /** The upcasters the store was opened with. */
  upcasters?: Record<string, Upcaster>;
}

/**
 * The engine hands a projection of a store each record's payload as it is
 * (the payload is a view of the read buffer: decoded within `apply`, never kept).
 */
export const payloadCodec: EventCodec<Uint8Array> = {
  decode: (payload) => payload,
  encode: (payload) => payload,
};

/** The decoder a projection's options describe; InvalidProjectionArgumentError for options that describe none or two. */
export function decoderOf(what: string, options: EventSourceOptions): EventDecoder {
  const { decoder, filter, upcasters } = options;
  if (decoder !== undefined) {
    if (filter !== undefined || upcasters !== undefined) {
      throw new InvalidProjectionArgumentError(`${what}: give a decoder, or a filter and upcasters, not both (store.decoder(filter) carries the store's upcasters)`);
    }
    if (typeof decoder !== 'object' || decoder === null || typeof (decoder as Partial<EventDecoder>).eventsOf !== 'function') {
      throw new InvalidProjectionArgumentError(`${what}: decoder must be an EventDecoder (store.decoder(filter?) or createEventDecoder)`);
    }
    return decoder;
  }
  try {
    return createEventDecoder({ filter, upcasters });
  } catch (err) {
    // one error code for every bad option of a projection, the store's words kept
    if (isStoreError(err)) throw new InvalidProjectionArgumentError(`${what}: ${err.message}`);
    throw err;
  }
}

/** Refuses what is not an options object, or lacks initialState and evolve functions. */
export function checkEventProjectionOptions(what: string, options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new InvalidProjectionArgumentError(`${what} takes an options object`);
  const o = options as Record<string, unknown>;
  if (typeof o.initialState !== 'function' || typeof o.evolve !== 'function') {
    throw new InvalidProjectionArgumentError(`${what} "${String(o.name)}": initialState and evolve must be functions`);
  }
  for (const key of ['serialize', 'deserialize'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new InvalidProjectionArgumentError(`${what} "${String(o.name)}": ${key} must be a function`);
  }
}
