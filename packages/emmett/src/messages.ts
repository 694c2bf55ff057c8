import { downcastRecordedMessage, type Event as EmmettEvent, type ReadEvent, type ReadEventMetadataWithGlobalPosition } from '@event-driven-io/emmett';
import { uuidv7, type Event, type RecordedEvent } from '@episteme/store';
import { describeValue } from '@episteme/store/internals';
import { EmmettInvalidArgumentError } from './errors.js';

/** An event as Emmett reads it back from this store. */
export type EpistemeReadEvent<E extends EmmettEvent = EmmettEvent> = ReadEvent<E, ReadEventMetadataWithGlobalPosition>;

/**
 * The metadata keys the store fills on read (as Emmett's stores do):
 * never stored with an event's metadata, so a value a caller gives for one
 * cannot contradict the event's place in the log.
 */
const RECORDED_KEYS = new Set(['messageId', 'streamName', 'streamPosition', 'globalPosition']);

/**
 * Emmett's global positions start at 1 (its SQL stores' sequences do, and
 * a checkpoint of 0n would read as "nothing handled"); the store's are log
 * positions from 0. An event's Emmett global position is the store's plus 1.
 */
export const toEmmettGlobalPosition = (storePosition: number): bigint => BigInt(storePosition) + 1n;

type Versioning = { downcast?: (event: EmmettEvent) => EmmettEvent } | undefined;

/**
 * Emmett events as the store's, with Emmett's downcasting applied to the
 * shape Emmett's SQL stores give it (metadata with `streamName` and, when
 * the caller gave one, `messageId`). A `messageId` in the metadata is the
 * event's id: read back as the same `messageId`, and a retried append with
 * the same ids resolves to the first one's result (see docs/emmett.md).
 * `assignIds` gives the others an id here rather than in the store, for a
 * caller that needs them before the append resolves (onAfterCommit).
 */
export function toStoreEvents(streamName: string, events: unknown, versioning: Versioning, assignIds = false): Event[] {
  if (!Array.isArray(events)) throw new EmmettInvalidArgumentError(`appendToStream takes an array of events, not ${describeValue(events)}`);
  const out: Event[] = new Array<Event>(events.length);
  for (let i = 0; i < events.length; i++) {
    const given = events[i] as EmmettEvent | null;
    if (typeof given !== 'object' || given === null || typeof given.type !== 'string') {
      throw new EmmettInvalidArgumentError(`event ${i} of the append to "${streamName}" is not an event ({ type, data, metadata? }): ${describeValue(given)}`);
    }
    const shape = given as { metadata?: Record<string, unknown> | undefined; kind?: string };
    const meta = shape.metadata ?? {};
    if (typeof meta !== 'object' || meta === null) throw new EmmettInvalidArgumentError(`the metadata of event ${i} of the append to "${streamName}" is not an object`);
    if (meta.messageId !== undefined && typeof meta.messageId !== 'string') {
      throw new EmmettInvalidArgumentError(`metadata.messageId of event ${i} of the append to "${streamName}" must be a string, not ${describeValue(meta.messageId)}`);
    }
    const messageId = (meta.messageId as string | undefined) ?? (assignIds ? uuidv7() : undefined);
    let data: unknown = given.data;
    let metadata: Record<string, unknown> = meta;
    if (versioning?.downcast) {
      const recorded = { ...given, kind: shape.kind ?? 'Event', metadata: { ...meta, streamName, ...(messageId !== undefined ? { messageId } : {}) } };
      const stored = downcastRecordedMessage(recorded as never, versioning as never) as { data: unknown; metadata?: Record<string, unknown> };
      data = stored.data;
      metadata = stored.metadata ?? {};
    }
    out[i] = { type: given.type, data, metadata: storedMetadata(metadata), ...(messageId !== undefined ? { id: messageId } : {}) };
  }
  return out;
}

/** The caller's own metadata keys, or undefined when none is left (nothing stored for it). */
function storedMetadata(metadata: Record<string, unknown>): Record<string, unknown> | undefined {
  let own: Record<string, unknown> | undefined;
  for (const key of Object.keys(metadata)) {
    if (RECORDED_KEYS.has(key)) continue;
    (own ??= {})[key] = metadata[key];
  }
  return own;
}

/** A store event as Emmett reads it: the caller's metadata with the recorded keys over it, `kind: 'Event'`. */
export function toReadEvent(e: RecordedEvent): EpistemeReadEvent {
  return {
    type: e.type,
    data: e.data,
    kind: 'Event',
    metadata: {
      ...(e.metadata ?? {}),
      messageId: e.id,
      streamName: e.stream,
      streamPosition: BigInt(e.streamPosition),
      globalPosition: toEmmettGlobalPosition(e.globalPosition),
    },
  } as EpistemeReadEvent;
}
