import type { PayloadPool } from './payloads.js';
import type { Appender } from './stores.js';

/**
 * One timed slice of appends to an open store: `clients` appenders, each
 * appending one record and waiting for it before the next (a closed loop),
 * until `ms` have passed. Latency is per append, from the call to its
 * acknowledgement. The raw group workload has no appenders to wait for: it
 * writes `clients` records per write+fdatasync in a synchronous loop, and
 * each record's latency is its batch's.
 */

export interface Slice {
  records: number;
  ms: number;
  /** Latency percentiles of this slice, µs. */
  p50: number;
  p99: number;
  /** Records per commit in this slice, where the appender counts commits. */
  perCommit: number | null;
}

let lat = new Float64Array(1 << 16);
let latN = 0;

function pushLatency(ms: number): void {
  if (latN === lat.length) {
    const bigger = new Float64Array(lat.length * 2);
    bigger.set(lat);
    lat = bigger;
  }
  lat[latN++] = ms;
}

function percentilesUs(): { p50: number; p99: number } {
  if (latN === 0) return { p50: NaN, p99: NaN };
  const s = lat.subarray(0, latN).sort();
  const at = (q: number): number => s[Math.min(latN - 1, Math.floor(q * latN))]! * 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

export async function appendSlice(app: Appender, pool: PayloadPool, ms: number, clients: number): Promise<Slice> {
  latN = 0;
  const commits0 = app.commits?.() ?? 0;
  let records = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  if (app.appendBatchSync && clients > 1) {
    const batch: Buffer[] = new Array<Buffer>(clients);
    let now = t0;
    while (now < end) {
      for (let i = 0; i < clients; i++) batch[i] = pool.next();
      app.appendBatchSync(batch);
      const t = performance.now();
      for (let i = 0; i < clients; i++) pushLatency(t - now);
      records += clients;
      now = t;
    }
  } else if (clients === 1) {
    let now = t0;
    while (now < end) {
      const r = app.append(pool.next());
      // better-sqlite3 and raw return nothing: no await, no extra microtask per append.
      if (r !== undefined) await r;
      const t = performance.now();
      pushLatency(t - now);
      records++;
      now = t;
    }
  } else {
    const client = async (): Promise<void> => {
      while (performance.now() < end) {
        const s = performance.now();
        const r = app.append(pool.next());
        if (r !== undefined) await r;
        pushLatency(performance.now() - s);
        records++;
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
  }
  const elapsed = performance.now() - t0;
  const commits = (app.commits?.() ?? 0) - commits0;
  return { records, ms: elapsed, ...percentilesUs(), perCommit: app.commits && commits > 0 ? records / commits : null };
}
