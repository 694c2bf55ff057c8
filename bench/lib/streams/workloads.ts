import type { BenchEvent, Side } from './sides.js';

/**
 * The workloads of the streams suite, each written once against `Side`.
 * Events are small JSON objects (~150 B encoded), the size of a typical
 * domain event; every append carries an expected version.
 */

const NOTE = 'added from the storefront, paid by card, shipping to the usual address';

export function benchEvent(order: number, i: number): BenchEvent {
  return { type: i % 3 === 0 ? 'ItemAdded' : i % 3 === 1 ? 'ItemRemoved' : 'PriceChanged', data: { order, sku: `sku-${i % 1000}`, quantity: 1 + (i % 5), amount: 1 + (i % 97), note: NOTE } };
}

export interface AppendSlice {
  commits: number;
  events: number;
  ms: number;
  /** Per-commit latency samples, µs. */
  latencies: number[];
}

let sliceCounter = 0;

/**
 * `appenders` loops, each appending to a stream of its own for `ms`, each
 * commit of `perCommit` events with the expected version the previous
 * commit returned (the first creates the stream: expected 0). Stream names
 * are new per slice, so each slice starts with empty streams in a store
 * that keeps growing a little round after round (as a store does).
 */
export async function appendSlice(side: Side, ms: number, appenders: number, perCommit: number): Promise<AppendSlice> {
  const slice = ++sliceCounter;
  const latencies: number[] = [];
  let commits = 0;
  const start = performance.now();
  const deadline = start + ms;
  const loop = async (k: number): Promise<void> => {
    const stream = `order-s${slice}a${k}`;
    let version = 0;
    let t0 = performance.now();
    while (t0 < deadline) {
      const events: BenchEvent[] = [];
      for (let e = 0; e < perCommit; e++) events.push(benchEvent(k, version + e));
      const next = await side.append(stream, events, version);
      if (next !== version + perCommit) throw new Error(`${side.label}: ${stream} went from version ${version} to ${next} with ${perCommit} events`);
      version = next;
      const t1 = performance.now();
      latencies.push((t1 - t0) * 1000);
      t0 = t1;
      commits++;
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, k) => loop(k)));
  return { commits, events: commits * perCommit, ms: performance.now() - start, latencies };
}

export interface DatasetShape {
  /** Streams in the store. */
  streams: number;
  /** Of which this many hold `hotLength` events (the others one each). */
  hot: number;
  hotLength: number;
}

export function hotStream(i: number): string {
  return `order-hot${i}`;
}

/** Events the dataset holds. */
export function datasetEvents(d: DatasetShape): number {
  return d.streams - d.hot + d.hot * d.hotLength;
}

/**
 * Writes the read dataset through a side's own appendToStream: the hot
 * streams' events one per commit, spread evenly among the one-event
 * streams (so a hot stream's events lie all over the log, as an aggregate's
 * do), `concurrency` commits in flight.
 */
export async function fillDataset(side: Side, d: DatasetShape, concurrency: number, progress: (done: number) => void): Promise<void> {
  const cold = d.streams - d.hot;
  const hotCommits = d.hot * d.hotLength;
  const total = cold + hotCommits;
  const versions = new Array<number>(d.hot).fill(0);
  // a hot stream's commits are chained: a pool of connections (PostgreSQL) could otherwise run
  // version v+1 before v and fail it as a conflict
  const tails = new Array<Promise<unknown>>(d.hot).fill(Promise.resolve());
  const every = total / Math.max(1, hotCommits);
  let next = 0;
  let hotDone = 0;
  let coldDone = 0;
  let done = 0;
  const hotAppend = (): Promise<unknown> => {
    const h = hotDone++ % d.hot;
    const v = versions[h]!;
    versions[h] = v + 1;
    const p = tails[h]!.then(() => side.append(hotStream(h), [benchEvent(h, v)], v));
    tails[h] = p;
    return p;
  };
  const worker = async (): Promise<void> => {
    while (next < total) {
      const j = next++;
      // hot commits at evenly spaced jobs, the cold streams in between
      if (hotDone < hotCommits && (j >= Math.floor(hotDone * every) || coldDone >= cold)) await hotAppend();
      else {
        const c = coldDone++;
        await side.append(`order-c${c}`, [benchEvent(c, 0)], 0);
      }
      if (++done % 10_000 === 0) progress(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
}

/** Runs `op` `count` times (hot streams in turn); ms. */
export async function timedOps(count: number, hot: number, op: (stream: string) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await op(hotStream(i % hot));
  return performance.now() - t0;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}
