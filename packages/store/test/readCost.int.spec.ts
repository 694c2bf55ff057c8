import { describe, expect, it } from 'vitest';
import { nodeFileIO, type FileIO } from '@episteme/wal';
import { openEventStore } from '../src/index.js';
import { tempDir } from './helpers.js';

/** Counts the preads made through it and the bytes they asked for. */
function countingIO(): FileIO & { reads: number; bytes: number } {
  const io = { ...nodeFileIO, reads: 0, bytes: 0 };
  io.read = (fd, buf, offset, length, position) => {
    io.reads++;
    io.bytes += length;
    return nodeFileIO.read(fd, buf, offset, length, position);
  };
  return io;
}

describe('the cost of reading a stream', () => {
  it('readStream and aggregateStream read the records of that stream only, not the log: at most a pread per commit, none before its first', async () => {
    const io = countingIO();
    const store = await openEventStore({ dir: tempDir(), durability: 'none', io });
    for (let i = 0; i < 1000; i++) await store.appendToStream(`other-${i % 50}`, [{ type: 't', data: i }]);
    const mine: number[] = [];
    for (let i = 0; i < 3; i++) {
      mine.push((await store.appendToStream('mine', [{ type: 't', data: i }, { type: 't', data: i }])).globalPosition - 1);
      // far apart: each commit of `mine` is read on its own
      for (let k = 0; k < 300; k++) await store.appendToStream(`other-${k}`, [{ type: 't', data: 'x'.repeat(100) }]);
    }
    const cost = async <T>(read: () => Promise<T>): Promise<{ result: T; reads: number; bytes: number }> => {
      const [reads, bytes] = [io.reads, io.bytes];
      const result = await read();
      return { result, reads: io.reads - reads, bytes: io.bytes - bytes };
    };
    const whole = await cost(() => store.readStream('mine'));
    expect(whole.result.events.map((e) => e.data)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(whole.reads).toBe(3);
    expect(whole.bytes).toBeLessThan(mine[0]!); // not the 1,000 records before the stream's first commit
    const one = await cost(() => store.readStream('mine', { from: 4, maxCount: 1 }));
    expect(one.result.events.map((e) => e.streamPosition)).toEqual([4]);
    expect(one.reads).toBe(1);
    const folded = await cost(() => store.aggregateStream('mine', { initialState: () => 0, evolve: (n) => n + 1 }));
    expect(folded.result.state).toBe(6);
    expect(folded.reads).toBe(3);
    await store.close();
  });

  it('commits of a stream written close together are read with one pread, and read the same', async () => {
    const io = countingIO();
    const store = await openEventStore({ dir: tempDir(), durability: 'none', io });
    for (let i = 0; i < 1000; i++) await store.appendToStream(`other-${i % 50}`, [{ type: 't', data: i }]);
    for (let i = 0; i < 20; i++) {
      await store.appendToStream('near', [{ type: 't', data: i }]);
      await store.appendToStream(`other-${i}`, [{ type: 't', data: i }]);
    }
    const reads = io.reads;
    const { events } = await store.readStream('near');
    expect(events.map((e) => e.data)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(events.map((e) => e.streamPosition)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(io.reads - reads).toBe(1);
    await store.close();
  });
});
