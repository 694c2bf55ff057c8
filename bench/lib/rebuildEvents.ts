import { binaryCodec, type BinarySchema, type Projection } from '@episteme/projections';
import { Journal } from '@episteme/wal';

/** The rebuild suite's events and projections (bench/suites/rebuild.ts, bench/rebuildProfile.ts). */
const TYPES = [
  'OrderPlaced',
  'OrderShipped',
  'OrderCancelled',
  'PaymentReceived',
  'PaymentRefunded',
  'ItemAdded',
  'ItemRemoved',
  'CustomerRegistered',
  'AddressChanged',
  'CouponApplied',
  'InventoryAdjusted',
  'CartAbandoned',
];

export type Counts = Record<string, number>;

/** Event i as JSON, ~200 B; the type is spread unevenly by a multiplicative hash. */
export function eventJson(i: number): string {
  const type = TYPES[(Math.imul(i, 2654435761) >>> 0) % TYPES.length]!;
  const at = new Date(Date.UTC(2026, 10, 23) + i * 997).toISOString();
  return JSON.stringify({
    type,
    id: `evt-${String(i).padStart(9, '0')}`,
    stream: `order-${(i * 7919) % 100_000}`,
    at,
    v: i % 7,
    data: { sku: `SKU-${String((i * 31) % 100_000).padStart(5, '0')}`, qty: 1 + (i % 5), price: ((i * 37) % 100_000) / 100, currency: 'EUR', customer: `cust-${(i * 13) % 50_000}`, channel: i % 3 ? 'web' : 'store' },
  });
}

/** The bench's events for the binary codec: every type has the same fields. */
const SCHEMA: BinarySchema = {
  types: Object.fromEntries(
    TYPES.map((t) => [t, { id: 'string', stream: 'string', at: 'string', v: 'int', data: { sku: 'string', qty: 'int', price: 'float', currency: 'string', customer: 'string', channel: 'string' } }]),
  ),
};
export const binary = binaryCodec<{ type: string }>(SCHEMA);

export const countByType: Projection<Counts, { type: string }> = {
  name: 'count-by-type',
  version: 1,
  initialState: () => ({}),
  apply: (state, event) => {
    state[event.type] = (state[event.type] ?? 0) + 1;
    return state;
  },
};

/** The same projection over the same events stored with the binary codec. */
export const countByTypeBinary: Projection<Counts, { type: string }> = { ...countByType, name: 'count-by-type-binary', codec: binary };

export function sameCounts(a: Counts, b: Counts): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Events one after the other in one buffer; event i is all.subarray(offsets[i], offsets[i + 1]). */
export interface PackedEvents {
  all: Uint8Array;
  offsets: Int32Array;
}

/** `count` events as JSON and with the binary codec, packed in memory, and how many there are of each type. */
export function buildEvents(count: number): { json: PackedEvents; binary: PackedEvents; expected: Counts } {
  const encoder = new TextEncoder();
  const expected: Counts = {};
  const events: Array<{ type: string }> = [];
  const json = pack(count, (i) => {
    const text = eventJson(i);
    const event = JSON.parse(text) as { type: string };
    events.push(event);
    expected[event.type] = (expected[event.type] ?? 0) + 1;
    return encoder.encode(text);
  });
  return { json, binary: pack(count, (i) => binary.encode(events[i]!)), expected };
}

function pack(count: number, make: (i: number) => Uint8Array): PackedEvents {
  const chunks: Uint8Array[] = [];
  const offsets = new Int32Array(count + 1);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const b = make(i);
    chunks.push(b);
    offsets[i] = bytes;
    bytes += b.length;
  }
  offsets[count] = bytes;
  const all = new Uint8Array(bytes);
  chunks.forEach((c, i) => all.set(c, offsets[i]!));
  return { all, offsets };
}

/** Appends the packed events to a new journal in `dir` (batches of 4,096, durability none) and closes it cleanly. */
export async function writeEvents(dir: string, all: Uint8Array, offsets: Int32Array): Promise<void> {
  const count = offsets.length - 1;
  const writer = await Journal.open({ dir, durability: 'none' });
  try {
    for (let i = 0; i < count; i += 4096) {
      const batch: Uint8Array[] = [];
      for (let k = i; k < Math.min(count, i + 4096); k++) batch.push(all.subarray(offsets[k], offsets[k + 1]));
      await writer.appendBatch(batch);
    }
  } finally {
    await writer.close();
  }
}
