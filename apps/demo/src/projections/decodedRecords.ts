import type { LogRecord } from '@episteme/wal';

type Decoded<T> = readonly T[];

/**
 * The events of the records decoded lately, shared by decoders of one
 * configuration. The app's three projections and its audit export each
 * decode every commit of the log: without this, every commit's JSON was
 * parsed four times, on the thread that also appends. An entry is a
 * record's offset, a copy of its bytes and its events; a lookup hits only
 * when the bytes are the same too (the events are a function of the offset
 * and the bytes), so two logs in one process, or an offset a crash gave to
 * another record, never share wrongly. The events handed out are frozen
 * (the event, its data and metadata, the array): every follower reads the
 * same objects, and none may change what another sees.
 */
export class DecodedRecords<T extends object> {
  private readonly entries = new Map<number, { bytes: Uint8Array; events: Decoded<T> }>();
  /** Offsets in the order they were added: the oldest leaves first. */
  private readonly ring: Float64Array;
  private next = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity).fill(-1);
  }

  eventsOf(record: Pick<LogRecord, 'offset' | 'payload'>, decode: (record: Pick<LogRecord, 'offset' | 'payload'>) => T[]): Decoded<T> {
    const { offset, payload } = record;
    const hit = this.entries.get(offset);
    if (hit !== undefined && sameBytes(hit.bytes, payload)) {
      this.hits++;
      return hit.events;
    }
    this.misses++;
    const events = decode(record);
    for (const e of events) freezeEvent(e);
    Object.freeze(events);
    const old = this.ring[this.next]!;
    if (old >= 0 && old !== offset) this.entries.delete(old);
    this.ring[this.next] = offset;
    this.next = (this.next + 1) % this.capacity;
    // a copy (not Buffer's slice, which is a view): the reader that handed the payload in may reuse its buffer
    this.entries.set(offset, { bytes: new Uint8Array(payload), events });
    return events;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

function freezeEvent(e: object): void {
  const { data, metadata } = e as { data?: unknown; metadata?: unknown };
  if (typeof data === 'object' && data !== null) Object.freeze(data);
  if (typeof metadata === 'object' && metadata !== null) Object.freeze(metadata);
  Object.freeze(e);
}
