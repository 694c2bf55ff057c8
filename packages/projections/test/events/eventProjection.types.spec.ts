import { describe, expectTypeOf, it } from 'vitest';
import type { Event, RecordedEvent } from '@episteme/store';
import { eventProjection, perStreamProjection, ProjectionEngine, type Projection } from '../../src/index.js';
import { emptyCart, evolveCart, type Cart, type CartEvent } from './storeFixture.js';

// compile-time checks (tsc -p tsconfig.json): the runtime part only builds the definitions
describe('projections of a store are typed by their events', () => {
  it('narrows a union of events on type in evolve', () => {
    const p = eventProjection<number, CartEvent>({
      name: 'total',
      version: 1,
      initialState: () => 0,
      evolve: (n, e) => {
        switch (e.type) {
          case 'ItemAdded':
            expectTypeOf(e.data).toEqualTypeOf<{ sku: string; qty: number }>();
            return n + e.data.qty;
          case 'CheckedOut':
            expectTypeOf(e.data).toEqualTypeOf<{ total: number }>();
            // @ts-expect-error a checkout has no sku
            return e.data.sku === undefined ? n : n;
          default:
            expectTypeOf(e.type).toEqualTypeOf<'ItemRemoved'>();
            return n;
        }
      },
    });
    expectTypeOf(p).toExtend<Projection<number, Uint8Array>>();
    expectTypeOf(p.stateOf).returns.toEqualTypeOf<number>();
  });

  it('infers the events from an evolve typed elsewhere, and types per-stream reads', () => {
    const p = perStreamProjection({ name: 'carts', version: 1, initialState: emptyCart, evolve: evolveCart });
    expectTypeOf(p.stateOf).returns.toEqualTypeOf<Cart | undefined>();
    expectTypeOf(p.streams).returns.toEqualTypeOf<ReadonlyMap<string, Cart>>();
    expectTypeOf<Parameters<typeof p.stateOf>>().toEqualTypeOf<[ProjectionEngine, string]>();
    perStreamProjection<Cart, CartEvent>({
      name: 'carts',
      version: 1,
      initialState: emptyCart,
      // @ts-expect-error an evolve of other events does not fit
      evolve: (s: Cart, e: RecordedEvent<Event<'Other', { x: number }>>) => (e.data.x ? s : s),
    });
  });
});
