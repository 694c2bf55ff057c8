import type { AfterEventStoreCommitHandler, EventStore as EmmettEventStore } from '@event-driven-io/emmett';
import type { EventStore, EventStoreOptions } from '@episteme/store';
// a type only: erased from the output, so that @episteme/nats stays an optional peer (loaded when `nats` is given)
import type { ClusterStoreOptions } from '@episteme/nats';
import { describeValue } from '@episteme/store/internals';
import { unknownOptionKey, unknownOptionMessage } from '@episteme/wal/internals';
import type { StoreConsumers } from './consumer/processorFeed.js';
import { EmmettInvalidArgumentError } from './errors.js';

/** Emmett's hooks of every event store (DefaultEventStoreOptions). */
export interface EpistemeEventStoreHooks {
  /** Called after a commit with its events as read back (Emmett's onAfterCommit: once per successful append, its failure only logged). */
  onAfterCommit?: AfterEventStoreCommitHandler<EmmettEventStore>;
}

/**
 * The store on a JetStream cluster (`@episteme/nats`'s ClusterEventStore
 * options: `servers` or `connection`, `stream`, credentials, `replicas`, ...)
 * and where its processors keep their checkpoints.
 */
export interface EpistemeNatsOptions extends ClusterStoreOptions {
  /** The KV bucket of the processors' checkpoints (default `episteme-cursors-<stream>`), created with `replicas` when missing. */
  cursorBucket?: string;
}

/**
 * `getEpistemeEventStore`'s options: either the options of an embedded
 * store (`dir` and the journal's and store's options, as `openEventStore`
 * takes them), or the store on a JetStream cluster (`nats`, which needs the
 * optional peer @episteme/nats), or an event store already open (`store`:
 * any implementation of @episteme/store's EventStore interface, which the
 * adapter then owns and closes).
 */
export type EpistemeEventStoreOptions =
  | (EventStoreOptions & { store?: undefined; consumers?: undefined; nats?: undefined; hooks?: EpistemeEventStoreHooks })
  | { nats: EpistemeNatsOptions; hooks?: EpistemeEventStoreHooks }
  | {
      store: EventStore;
      /** The cursors and decoder processors of this store use (an embedded store has its own; another implementation gives them). */
      consumers?: StoreConsumers;
      hooks?: EpistemeEventStoreHooks;
    };

export interface CheckedOptions {
  open: EventStoreOptions | undefined;
  nats: EpistemeNatsOptions | undefined;
  store: EventStore | undefined;
  consumers: StoreConsumers | undefined;
  hooks: EpistemeEventStoreHooks;
}

/** The hooks the adapter calls, each listed once (the compiler keeps the list whole). */
const HOOK_KEYS = Object.keys({ onAfterCommit: true } satisfies Record<keyof EpistemeEventStoreHooks, true>);

const STORE_METHODS = ['appendToStream', 'readStream', 'aggregateStream', 'streamExists', 'readAll', 'close'] as const;

/** Checks the adapter's own options (the store checks its own when it opens): nothing is opened or created on a bad one. */
export function checkOptions(options: unknown): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new EmmettInvalidArgumentError(`getEpistemeEventStore takes an options object ({ dir }, { nats } or { store }), not ${describeValue(options)}`);
  }
  const { store, hooks, consumers, nats, ...open } = options as { store?: unknown; hooks?: unknown; consumers?: unknown; nats?: unknown; dir?: unknown };
  if (hooks !== undefined) {
    if (typeof hooks !== 'object' || hooks === null) throw new EmmettInvalidArgumentError(`hooks must be an object, not ${describeValue(hooks)}`);
    // a misspelt hook (`onAfterComit`) would never be called, silently
    const unknown = unknownOptionKey(hooks, HOOK_KEYS);
    if (unknown !== undefined) throw new EmmettInvalidArgumentError(unknownOptionMessage('hooks', unknown, HOOK_KEYS));
    const { onAfterCommit } = hooks as { onAfterCommit?: unknown };
    if (onAfterCommit !== undefined && typeof onAfterCommit !== 'function') {
      throw new EmmettInvalidArgumentError(`hooks.onAfterCommit must be a function, not ${describeValue(onAfterCommit)}`);
    }
  }
  const checkedHooks = (hooks ?? {}) as EpistemeEventStoreHooks;
  if (nats !== undefined) {
    const beside = [...Object.keys(open), ...(store !== undefined ? ['store'] : []), ...(consumers !== undefined ? ['consumers'] : [])];
    if (beside.length > 0) throw new EmmettInvalidArgumentError(`nats opens the store on a cluster: give it alone, not with ${beside.join(', ')}`);
    if (typeof nats !== 'object' || nats === null) throw new EmmettInvalidArgumentError(`nats must be the cluster's options ({ servers, stream }), not ${describeValue(nats)}`);
    const { cursorBucket } = nats as { cursorBucket?: unknown };
    if (cursorBucket !== undefined && (typeof cursorBucket !== 'string' || cursorBucket.length === 0)) {
      throw new EmmettInvalidArgumentError(`nats.cursorBucket must be a non-empty string, not ${describeValue(cursorBucket)}`);
    }
    // the rest (servers, stream name, credentials) is checked by @episteme/nats before it connects
    return { open: undefined, nats: nats as EpistemeNatsOptions, store: undefined, consumers: undefined, hooks: checkedHooks };
  }
  if (store !== undefined) {
    if (Object.keys(open).length > 0) {
      throw new EmmettInvalidArgumentError(`give either an open store or the options to open one, not both (${Object.keys(open).join(', ')} beside store)`);
    }
    const s = store as Record<string, unknown> | null;
    const missing = typeof s === 'object' && s !== null ? STORE_METHODS.filter((m) => typeof s[m] !== 'function') : STORE_METHODS;
    if (missing.length > 0) throw new EmmettInvalidArgumentError(`store must be an @episteme/store EventStore (missing ${missing.join(', ')})`);
    if (consumers !== undefined) {
      const c = consumers as Partial<StoreConsumers> | null;
      if (typeof c !== 'object' || c === null || typeof c.registry?.register !== 'function' || typeof c.decoder?.eventsOf !== 'function') {
        throw new EmmettInvalidArgumentError('consumers must be { registry: ConsumerRegistry, decoder: EventDecoder } over the store\'s log');
      }
    }
    return { open: undefined, nats: undefined, store: store as EventStore, consumers: consumers as StoreConsumers | undefined, hooks: checkedHooks };
  }
  if (consumers !== undefined) throw new EmmettInvalidArgumentError('consumers goes with { store }: an embedded store opened from dir has its own');
  if (typeof open.dir !== 'string' || open.dir.length === 0) {
    throw new EmmettInvalidArgumentError(`dir must be a non-empty string (the store's directory), not ${describeValue(open.dir)}`);
  }
  return { open: open as EventStoreOptions, nats: undefined, store: undefined, consumers: undefined, hooks: checkedHooks };
}
