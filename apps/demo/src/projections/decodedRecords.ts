import type { LogRecord } from '@episteme/wal';

type Decode<T> = (record: Pick<LogRecord, 'offset' | 'payload'>) => T[];

/**
 * The events of the records decoded lately, shared by the decoders of one
 * configuration: the app's two projections and its audit export follow
 * the same commits within a few hundred records of each other, and each
 * decoded every commit on its own (its JSON parsed three times, on the
 * thread that also appends).
 *
 * A fixed number of slots, each chosen by the record's offset and owning
 * a region of one buffer allocated once: a slot holds an offset, a copy of
 * the record's bytes and its events. A lookup hits only when the offset
 * and every byte are the same (the events are a function of the two), so
 * two logs in one process, or an offset that a crash gave to another
 * record, never share wrongly; a record longer than a region is decoded
 * each time. Nothing is allocated per record but the events: an earlier
 * cache that copied each record into a typed array of its own (memory
 * outside the heap, one allocation and one finalisation per record) cost
 * about what it saved. The events handed out are frozen (each event, its
 * data and metadata, the array): every follower reads the same objects,
 * and none may change what another sees.
 */
export class DecodedRecords<T extends object> {
  private readonly offsets: Float64Array;
  private readonly lengths: Uint32Array;
  private readonly events: Array<readonly T[] | undefined>;
  private bytes: Buffer | undefined;
  private readonly mask: number;

  /** `slots`: a power of two. `regionBytes`: the largest record kept. */
  constructor(
    readonly slots: number,
    readonly regionBytes: number,
  ) {
    if (!Number.isSafeInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`slots must be a power of two, not ${slots}`);
    this.offsets = new Float64Array(slots).fill(-1);
    this.lengths = new Uint32Array(slots);
    this.events = new Array<readonly T[] | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  /** The events of `record`: those decoded for the same offset and bytes, or `decode(record)`'s, kept. */
  eventsOf(record: Pick<LogRecord, 'offset' | 'payload'>, decode: Decode<T>): readonly T[] {
    const { offset, payload } = record;
    const len = payload.length;
    if (len > this.regionBytes) return freezeAll(decode(record));
    // a buffer of the process's own, made on first use (a command that never follows pays nothing)
    const bytes = (this.bytes ??= Buffer.alloc(this.slots * this.regionBytes));
    const slot = slotOf(offset) & this.mask;
    const at = slot * this.regionBytes;
    if (this.offsets[slot] === offset && this.lengths[slot] === len && bytes.compare(payload, 0, len, at, at + len) === 0) return this.events[slot]!;
    const events = freezeAll(decode(record));
    // the slot's three parts change together: no await, no throw between them
    bytes.set(payload, at);
    this.offsets[slot] = offset;
    this.lengths[slot] = len;
    this.events[slot] = events;
    return events;
  }
}

/** Mixes all of an offset's bits (up to 2^53) into 32: consecutive records land in scattered slots. */
function slotOf(offset: number): number {
  return (Math.imul(offset | 0, 0x9e3779b1) ^ Math.imul(Math.floor(offset / 0x1_0000_0000), 0x85ebca6b)) >>> 0;
}

function freezeAll<T extends object>(events: T[]): readonly T[] {
  for (const e of events) {
    const { data, metadata } = e as { data?: unknown; metadata?: unknown };
    if (typeof data === 'object' && data !== null) Object.freeze(data);
    if (typeof metadata === 'object' && metadata !== null) Object.freeze(metadata);
    Object.freeze(e);
  }
  return Object.freeze(events);
}
