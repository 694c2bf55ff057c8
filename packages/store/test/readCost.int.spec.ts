import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal } from '@episteme/wal';
import { openEventStore } from '../src/index.js';
import { tempDir } from './helpers.js';

afterEach(() => vi.restoreAllMocks());

describe('the cost of reading a stream', () => {
  it('readStream and aggregateStream read the records of that stream only, not the log', async () => {
    const store = await openEventStore({ dir: tempDir(), durability: 'none' });
    for (let i = 0; i < 1000; i++) await store.appendToStream(`other-${i % 50}`, [{ type: 't', data: i }]);
    for (let i = 0; i < 3; i++) {
      await store.appendToStream('mine', [{ type: 't', data: i }, { type: 't', data: i }]);
      for (let k = 0; k < 100; k++) await store.appendToStream(`other-${k}`, [{ type: 't', data: k }]);
    }
    const reads = vi.spyOn(Journal.prototype, 'read');
    const { events } = await store.readStream('mine');
    expect(events.length).toBe(6);
    expect(reads).toHaveBeenCalledTimes(3);
    reads.mockClear();
    expect((await store.readStream('mine', { from: 4, maxCount: 1 })).events.map((e) => e.streamPosition)).toEqual([4]);
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockClear();
    const { state } = await store.aggregateStream('mine', { initialState: () => 0, evolve: (n) => n + 1 });
    expect(state).toBe(6);
    expect(reads).toHaveBeenCalledTimes(3);
    await store.close();
  });
});
