import { projection, type Event, type EventStore, type ReadEvent, type ReadEventMetadataWithGlobalPosition } from '@event-driven-io/emmett';

/** A projection of totals over generated commits, for the projector tests on the embedded store and on the cluster. */
export type Added = Event<'Added', { n: number }>;
type Other = Event<'Other', { n: number }>;
type Read = ReadEvent<Added | Other, ReadEventMetadataWithGlobalPosition>;

export const PER_COMMIT = 10;

/** `events` events in commits of 10 over 50 streams; every 7th commit of another type the projection does not handle. The sum of the Added events. */
export async function fill(store: EventStore, events: number): Promise<number> {
  let total = 0;
  const writes: Promise<unknown>[] = [];
  for (let c = 0; c < events / PER_COMMIT; c++) {
    const type = c % 7 === 3 ? 'Other' : 'Added';
    const commit = Array.from({ length: PER_COMMIT }, (_, i) => ({ type, data: { n: c * PER_COMMIT + i } }));
    if (type === 'Added') for (const e of commit) total += e.data.n;
    writes.push(store.appendToStream(`s-${c % 50}`, commit as Added[]));
  }
  await Promise.all(writes);
  return total;
}

/** A read model: the sum of Added events, and every global position applied (to catch one applied twice). */
export function readModel() {
  const model = { total: 0, applied: new Set<bigint>(), twice: [] as bigint[] };
  const definition = projection<Added, ReadEventMetadataWithGlobalPosition>({
    name: 'totals',
    canHandle: ['Added'],
    handle: async (events) => {
      for (const e of events as Read[]) {
        const gp = e.metadata.globalPosition;
        if (model.applied.has(gp)) model.twice.push(gp);
        model.applied.add(gp);
        model.total += (e.data as { n: number }).n;
      }
    },
  });
  return { model, definition };
}

/** How many Added events `fill(store, events)` wrote: what one pass of the projection applies. */
export const addedEventsOf = (events: number): number => Array.from({ length: events / PER_COMMIT }, (_, c) => c).filter((c) => c % 7 !== 3).length * PER_COMMIT;
