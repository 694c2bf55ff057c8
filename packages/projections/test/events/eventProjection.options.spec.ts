import { describe, expect, it } from 'vitest';
import { createEventDecoder } from '@episteme/store';
import { eventProjection, isProjectionError, perStreamProjection, ProjectionEngine, ProjectionErrorCodes } from '../../src/index.js';
import { quiet } from '../helpers.js';
import { openStore } from './storeFixture.js';

const ok = { name: 'p', version: 1, initialState: () => 0, evolve: (n: number) => n + 1 };

const bad: Array<[string, unknown]> = [
  ['no options', undefined],
  ['options that are not an object', 'p'],
  ['no evolve', { ...ok, evolve: undefined }],
  ['an initialState that is not a function', { ...ok, initialState: 0 }],
  ['a serialize that is not a function', { ...ok, serialize: 'json' }],
  ['a bad name', { ...ok, name: '../escape' }],
  ['a bad version', { ...ok, version: -1 }],
  ['a decoder and a filter', { ...ok, decoder: createEventDecoder(), filter: { types: ['A'] } }],
  ['a decoder and upcasters', { ...ok, decoder: createEventDecoder(), upcasters: {} }],
  ['a decoder that is not one', { ...ok, decoder: { filter: {} } }],
  ['a filter with an unknown key', { ...ok, filter: { stream: 'a' } }],
  ['a filter prefix no stream can start with', { ...ok, filter: { streamPrefix: '$all' } }],
  ['an empty type list', { ...ok, filter: { types: [] } }],
  ['an upcaster that is not a function', { ...ok, upcasters: { A: 'B' } }],
];

describe('projections of a store refuse bad options with PROJECTION_INVALID_ARGUMENT', () => {
  describe.each([
    ['eventProjection', eventProjection],
    ['perStreamProjection', perStreamProjection],
  ] as const)('%s', (_, make) => {
    it.each(bad)('%s', (_, options) => {
      let err: unknown;
      try {
        make(options as never);
      } catch (e) {
        err = e;
      }
      expect(isProjectionError(err, ProjectionErrorCodes.InvalidArgument), String(err)).toBe(true);
    });
  });

  it('ProjectionEngine.forStore refuses what is not a store', async () => {
    const store = await openStore();
    for (const notAStore of [undefined, {}, store.log]) {
      let err: unknown;
      try {
        ProjectionEngine.forStore(notAStore as never, { logger: quiet });
      } catch (e) {
        err = e;
      }
      expect(isProjectionError(err, ProjectionErrorCodes.InvalidArgument), String(err)).toBe(true);
    }
  });
});
