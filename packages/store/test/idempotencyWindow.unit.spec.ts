import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdempotencyWindow } from '../src/idempotencyWindow.js';

describe('the idempotency window', () => {
  it('answers like a first-owner map of the last `capacity` ids, through growth, wrap-around and eviction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 3000 }), (capacity, ops) => {
        const w = new IdempotencyWindow(capacity);
        const model = new Map<string, number>();
        const order: string[] = [];
        ops.forEach((n, k) => {
          const id = `id-${n}`;
          w.add(id, k);
          if (!model.has(id)) {
            model.set(id, k);
            order.push(id);
            if (order.length > capacity) model.delete(order.shift()!);
          }
        });
        expect(w.size).toBe(model.size);
        for (let n = 0; n <= 2000; n++) expect(w.get(`id-${n}`)).toBe(model.get(`id-${n}`));
        const positions: number[] = [];
        w.forEach((_lo, _hi, at) => positions.push(at));
        expect(positions).toEqual(order.map((id) => model.get(id)));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps nothing with a capacity of 0', () => {
    const w = new IdempotencyWindow(0);
    w.add('a', 1);
    expect(w.get('a')).toBeUndefined();
    expect(w.size).toBe(0);
  });
});
