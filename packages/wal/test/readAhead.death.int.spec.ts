import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/index.js';
import { portableChecksums, setChecksums } from '../src/internals.js';
import { ChecksumOffload } from '../src/checksum/offload.js';
import { payloadOf, readyOffload, tempDir, withoutChecksumOffload, writeJournal } from './helpers.js';

/** Blocks this thread (its event loop included) for `ms`. */
function sleepBlocking(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/*
 * Its own file: it kills the process's checksum worker, which every later
 * read in this process would then do without.
 */
// the read-ahead serves transient readers where the native run check is not built: as on such a machine
const previousChecksums = setChecksums(portableChecksums);
afterAll(() => {
  setChecksums(previousChecksums);
});

describe("read-ahead for a transient reader ('crc'): a worker that dies", () => {
  it('with a run read ahead: the reader goes on with the same records', { timeout: 15_000 }, async (ctx) => {
    const offload = readyOffload(ctx);
    const dir = tempDir();
    writeJournal(dir, [Array.from({ length: 12_000 }, (_, i) => payloadOf(i, 150 + (i % 200)))]);
    const journal = await Journal.openForRead({ dir });
    try {
      const expected = withoutChecksumOffload(() => {
        const all: string[] = [];
        for (let pos = 0; ; ) {
          const got = journal.readMany(pos, 100_000, { transient: true });
          if (got.length === 0) return all;
          for (const r of got) all.push(hex(r.payload));
          pos = got[got.length - 1]!.next;
        }
      });
      const seen: string[] = [];
      let pos = 0;
      const step = (): boolean => {
        const got = journal.readMany(pos, 2000, { transient: true });
        for (const r of got) seen.push(hex(r.payload));
        if (got.length > 0) pos = got[got.length - 1]!.next;
        return got.length > 0;
      };
      // a few batches with the worker, until one has left a run read ahead behind it
      const jobs = offload.jobs;
      for (let i = 0; i < 6 && offload.jobs === jobs; i++) step();
      expect(offload.jobs, 'nothing was read ahead').toBeGreaterThan(jobs);
      // Kill it without giving this thread's event loop a turn: the reader
      // cannot have seen the exit event, as when a worker dies while it decodes.
      void (offload as unknown as { worker: Worker }).worker.terminate();
      sleepBlocking(300);
      // the run read ahead is taken back from the worker (or it was checked before the worker died); the
      // test's timeout is a liveness bound: a reader that waited for a dead worker forever would fail on it
      while (step());
      expect(seen).toEqual(expected);
      // once the exit event is in, the worker is given up for good, and reads go on without it
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(ChecksumOffload.get(), 'a dead worker is not handed runs again').toBeUndefined();
      seen.length = 0;
      pos = 0;
      while (step());
      expect(seen).toEqual(expected);
    } finally {
      await journal.close();
    }
  });
});
