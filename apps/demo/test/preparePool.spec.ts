import { afterEach, describe, expect, it } from 'vitest';
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
import { eventsOfEncoded } from '@episteme/store';
import { AGAIN, REFUSED, type PreparedRun } from '../src/import/preparedBatch.js';
import { defaultPrepareOptions, PreparePool, WORKER_FROM_BYTES } from '../src/import/preparePool.js';

const pools: PreparePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function pool(workers: number, extra: { startAfterLines?: number; workerUrl?: URL } = {}): PreparePool {
  const p = new PreparePool('import:test', DEFAULT_MAX_PAYLOAD_BYTES, { workers, startAfterLines: extra.startAfterLines ?? 0, workerUrl: extra.workerUrl });
  pools.push(p);
  return p;
}

/**
 * Runs of import lines of every kind: valid (id and time given, so that the
 * payload does not depend on where it was prepared), valid without an id,
 * not JSON, not an object, failing validation.
 */
function runs(count: number, size: number): string[][] {
  const out: string[][] = [];
  for (let r = 0; r < count; r++) {
    const lines: string[] = [];
    for (let i = 0; i < size; i++) {
      const n = r * size + i;
      const base = { subject: `s${n % 37}`, predicate: `p${n % 5}`, object: `o${n}`, confidence: (n % 11) / 10, source: 'test' };
      if (n % 13 === 5) lines.push('{"subject": "torn');
      else if (n % 17 === 3) lines.push('[1, 2]');
      else if (n % 19 === 7) lines.push(JSON.stringify({ ...base, confidence: 2 }));
      else if (n % 23 === 11) lines.push(JSON.stringify(base));
      else lines.push(JSON.stringify({ ...base, id: `id-${n}`, assertedAt: '2026-11-24T00:00:00.000Z' }));
    }
    out.push(lines);
  }
  return out;
}

/** A run's lines in a comparable form (each line's event as the store encoded it, or why it was refused); the id and time made for a line without an id are left out. */
function comparable(run: PreparedRun): unknown[] {
  const given = new Map(run.givenIds);
  const why = new Map(run.refused);
  return [...run.commitOf].map((k, i) => {
    if (k === REFUSED) return why.get(i);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(run.commits.streams[k]).toMatch(/^assertion-/);
    const event = eventsOfEncoded(run.commits, k)[0] as { data: Record<string, unknown> };
    if (given.has(i)) return { givenId: given.get(i), event };
    expect(event.data.id).toMatch(/^[0-9a-f-]{36}$/);
    delete event.data.id;
    delete event.data.assertedAt;
    return { event };
  });
}

async function prepareAll(p: PreparePool, input: string[][]): Promise<unknown[][]> {
  // every run asked for before any is awaited, as the import keeps several in flight
  const pending = input.map((lines) => p.prepare(lines));
  return (await Promise.all(pending)).map(comparable);
}

describe('PreparePool', () => {
  it('workers give the outcomes the calling thread gives, each run in its own order', async () => {
    const input = runs(12, 150);
    const here = await prepareAll(pool(0), input);
    const workers = pool(2);
    await workers.prepare(input[0]!.slice(0, 1)); // starts them; prepared here while they load
    await workers.settled();
    const there = await prepareAll(workers, input);
    expect(workers.liveWorkers).toBe(2);
    expect(workers.answeredByWorkers).toBe(12); // the workers prepared every run (under vitest too, through tsx)
    expect(there).toEqual(here);
    const kinds = here.flat().map((o) => (typeof o === 'string' ? o.slice(0, 12) : 'ok'));
    expect(new Set(kinds)).toEqual(new Set(['ok', 'not JSON (Un', 'not a JSON o', 'invalid asse']));
  });

  it('a line whose commit is over the payload limit comes back as AGAIN with its text, from a worker as from here', async () => {
    const big = JSON.stringify({ subject: 'x'.repeat(420), predicate: 'p', object: 'o', confidence: 0.5, source: 's' });
    const lines = ['{"subject": "torn', big, JSON.stringify({ subject: 's', predicate: 'p', object: 'o', confidence: 0.5, source: 's' })];
    const small = (workers: number): PreparePool => {
      const p = new PreparePool('import:test', 600, { workers, startAfterLines: 0 });
      pools.push(p);
      return p;
    };
    const here = await small(0).prepare(lines);
    const workers = small(1);
    await workers.prepare(['{}']);
    await workers.settled();
    const there = await workers.prepare(lines);
    expect(workers.answeredByWorkers).toBe(1);
    for (const run of [here, there]) {
      expect([...run.commitOf]).toEqual([REFUSED, AGAIN, 0]);
      expect(run.again).toEqual([[1, big]]);
      expect(run.commits.streams.length).toBe(1);
    }
  });

  it('starts the workers only once more than startAfterLines lines were asked for', async () => {
    const p = pool(2, { startAfterLines: 300 });
    const [first, second] = runs(2, 200);
    await p.prepare(first!);
    expect(p.liveWorkers).toBe(0);
    expect(p.answeredByWorkers).toBe(0);
    // started now, and loading: this run is prepared here rather than waiting for them
    await p.prepare(second!);
    expect(p.answeredByWorkers).toBe(0);
    await p.settled();
    expect(p.liveWorkers).toBe(2);
    await p.prepare(first!);
    expect(p.answeredByWorkers).toBe(1);
  });

  it('a worker that dies with runs outstanding: they are prepared on the calling thread, in order', async () => {
    const input = runs(6, 100);
    const expected = await prepareAll(pool(0), input);
    const p = pool(1, { workerUrl: new URL('./fixtures/dyingPrepareWorker.mjs', import.meta.url) });
    await p.prepare(input[0]!.slice(0, 1));
    await p.settled();
    expect(p.liveWorkers).toBe(1);
    expect(await prepareAll(p, input)).toEqual(expected);
    expect(p.answeredByWorkers).toBe(0);
    expect(p.liveWorkers).toBe(0);
  });

  it('a worker that cannot be loaded: the lines are prepared on the calling thread', async () => {
    const input = runs(3, 50);
    const expected = await prepareAll(pool(0), input);
    const p = pool(2, { workerUrl: new URL('./fixtures/no-such-worker.mjs', import.meta.url) });
    await p.prepare(input[0]!.slice(0, 1));
    await p.settled();
    expect(await prepareAll(p, input)).toEqual(expected);
    expect(p.liveWorkers).toBe(0);
  });

  it('closing with runs outstanding: each of them settles (answered, or refused because the pool stopped), and the threads end', async () => {
    const p = pool(2);
    await p.prepare(['{}']);
    await p.settled();
    expect(p.runningThreads).toBe(2);
    const pending = runs(8, 200).map((lines) => p.prepare(lines));
    await p.close();
    const settled = await Promise.allSettled(pending);
    for (const s of settled) {
      if (s.status === 'rejected') expect(String(s.reason)).toMatch(/import workers were stopped before this run was prepared/);
    }
    expect(settled.some((s) => s.status === 'rejected')).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(p.runningThreads).toBe(0);
  });

  it('a bug in preparing, in a worker, rejects that run with its message; the stack is kept for --debug, not in the message', async () => {
    const p = pool(1, { workerUrl: new URL('./fixtures/throwingPrepareWorker.mjs', import.meta.url) });
    await p.prepare(['{}']);
    await p.settled();
    const err = await p.prepare(['{}']).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('preparing import lines failed in a worker thread: boom');
    expect(err?.stack).toMatch(/\(in the worker\) Error: boom\n\s+at /);
  });
});

describe('the default number of workers (measured: bench/issues/25-app-write-path.md, "Sixth pass")', () => {
  it('one core: none; two: one for a file of 20 MB or more (at once) or a pipe (after 200,000 lines), none for a smaller file; more: one', () => {
    expect(defaultPrepareOptions(100e6, 1)).toEqual({ workers: 0, startAfterLines: 2000 });
    expect(defaultPrepareOptions(undefined, 1)).toEqual({ workers: 0, startAfterLines: 2000 });
    expect(defaultPrepareOptions(WORKER_FROM_BYTES - 1, 2)).toEqual({ workers: 0, startAfterLines: 2000 });
    expect(defaultPrepareOptions(WORKER_FROM_BYTES, 2)).toEqual({ workers: 1, startAfterLines: 2000 });
    expect(defaultPrepareOptions(undefined, 2)).toEqual({ workers: 1, startAfterLines: 200_000 });
    expect(defaultPrepareOptions(1000, 4)).toEqual({ workers: 1, startAfterLines: 2000 });
    expect(defaultPrepareOptions(undefined, 8)).toEqual({ workers: 1, startAfterLines: 2000 });
  });
});
