import { describe, expectTypeOf, it } from 'vitest';
import type { Event, EventDecoder } from '@episteme/store';
import { runEventConsumer, type ConsumerRegistry, type EventRunOptions } from '../../src/index.js';

type CartEvent = Event<'ItemAdded', { sku: string; qty: number }> | Event<'CheckedOut', { total: number }>;

// compile-time checks (tsc -p tsconfig.json); nothing runs
describe('runEventConsumer is typed by its events', () => {
  it('narrows a union on type in the handler', () => {
    const options: EventRunOptions<CartEvent> = {
      decoder: {} as EventDecoder,
      handler: (e) => {
        if (e.type === 'ItemAdded') expectTypeOf(e.data).toEqualTypeOf<{ sku: string; qty: number }>();
        else expectTypeOf(e.data).toEqualTypeOf<{ total: number }>();
        expectTypeOf(e.globalPosition).toEqualTypeOf<number>();
      },
    };
    expectTypeOf(runEventConsumer<CartEvent>).parameter(2).toEqualTypeOf<EventRunOptions<CartEvent>>();
    void options;
    void ({} as ConsumerRegistry);
    // @ts-expect-error a handler of records is not a handler of events
    const wrong: EventRunOptions<CartEvent> = { decoder: {} as EventDecoder, handler: (r: { next: number }) => r.next };
    void wrong;
  });
});
