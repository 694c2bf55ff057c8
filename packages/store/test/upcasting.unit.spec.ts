import { describe, expect, it } from 'vitest';
import { isStoreError, StoreErrorCodes } from '../src/index.js';
import { upcast } from '../src/upcasting.js';

const event = { type: 'Old', data: 1, metadata: undefined };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('upcast', () => {
  it('runs a chain until no upcaster applies', () => {
    const upcasters = { Old: () => ({ type: 'Mid', data: 2 }), Mid: () => ({ type: 'New', data: 3 }) };
    expect(upcast(upcasters, event)).toEqual({ type: 'New', data: 3, metadata: undefined });
  });

  it('refuses a cycle with STORE_INVALID_ARGUMENT', () => {
    const err = thrown(() => upcast({ Old: () => ({ type: 'Old2', data: 1 }), Old2: () => ({ type: 'Old', data: 1 }) }, event));
    expect(isStoreError(err, StoreErrorCodes.InvalidArgument), String(err)).toBe(true);
  });

  // an upcaster is the app's code, run on every read: what it returns is checked, so a slip gives a
  // typed error naming the upcaster, not a TypeError deep in a read, nor an event whose type is not a string
  it.each([
    ['nothing', () => undefined],
    ['null', () => null],
    ['a type that is a number', () => ({ type: 5, data: 1 })],
    ['an empty type', () => ({ type: '', data: 1 })],
    ['no type', () => ({ data: 1 })],
  ])('refuses an upcaster that returns %s with STORE_INVALID_ARGUMENT naming it', (_, fn) => {
    const err = thrown(() => upcast({ Old: fn as never }, event));
    expect(isStoreError(err, StoreErrorCodes.InvalidArgument), String(err)).toBe(true);
    expect((err as Error).message).toContain('"Old"');
  });

  it('lets an error the upcaster throws through as it is', () => {
    const mine = new Error('mine');
    expect(thrown(() => upcast({ Old: () => { throw mine; } }, event))).toBe(mine);
  });
});
