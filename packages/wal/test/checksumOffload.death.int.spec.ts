import { readFileSync, writeFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { verifyJournal } from '../src/index.js';
import { ChecksumOffload } from '../src/checksum/offload.js';
import { HEADER_SIZE, payloadOf, tempDir, withoutChecksumOffload, writeJournal } from './helpers.js';

/** Blocks this thread (its event loop included) for `ms`. */
function sleepBlocking(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/*
 * Its own file: it kills the process's checksum worker, which every later
 * scan in this process would then do without.
 */
describe('checksum offload: a worker that dies', () => {
  it('is given up within seconds while the main thread is blocked on it, and the verdict is the main thread\'s', { timeout: 15_000 }, () => {
    const offload = ChecksumOffload.get();
    if (!offload) {
      console.warn('checksum offload disabled here (one CPU or EPISTEME_CHECKSUM_THREADS=0): no worker to kill');
      return;
    }
    expect(offload.waitReady(20_000), 'the worker did not start').toBe(true);

    // damage deep in a sealed segment, in the half of a run the worker would take
    const dir = tempDir();
    const payloads = Array.from({ length: 12_000 }, (_, i) => payloadOf(i, 200 + (i % 90)));
    const { names, offsets } = writeJournal(dir, [payloads.slice(0, 6000), payloads.slice(6000)]);
    const sealed = `${dir}/${names[0]!}`;
    const bytes = readFileSync(sealed);
    bytes[HEADER_SIZE + offsets[5000]! + 50]! ^= 0x10;
    writeFileSync(sealed, bytes);
    const strip = (r: ReturnType<typeof verifyJournal>) => ({ ...r, durationMs: 0 });
    const alone = strip(withoutChecksumOffload(() => verifyJournal(dir)));
    expect(alone.problems).toHaveLength(1);

    // Kill the worker and let it die, without giving this thread's event loop
    // a turn: the offload cannot have seen the exit event, as when a worker
    // dies while the main thread waits on it.
    void (offload as unknown as { worker: Worker }).worker.terminate();
    sleepBlocking(300);
    const jobsBefore = offload.jobs;
    // Before, the offload waited 30 s for an answer here; the test's 15 s
    // timeout fails on that (a liveness bound, not a speed goal).
    const verdict = strip(verifyJournal(dir));

    expect(offload.jobs, 'no run went to the dead worker: the test proved nothing').toBeGreaterThan(jobsBefore);
    expect(verdict).toEqual(alone);
    expect(ChecksumOffload.get(), 'a dead worker is not handed jobs again').toBeUndefined();
  });
});
