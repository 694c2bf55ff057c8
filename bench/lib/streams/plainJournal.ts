import { Journal } from '@episteme/wal';
import { openEventStore } from '@episteme/store';
import { benchEvent, type AppendSlice } from './workloads.js';

/**
 * The baseline of the "expected version costs nothing" goal: plain
 * `Journal.append` of the very bytes the store writes for the same
 * commits, with the same journal options (immediate, group commit). The
 * bytes are taken from a store: `count` one-event commits appended to one
 * stream with expected versions, then read back from its journal.
 */
export async function commitPayloads(dir: string, count: number): Promise<Uint8Array[]> {
  const store = await openEventStore({ dir, durability: 'none' });
  try {
    for (let v = 0; v < count; v++) await store.appendToStream('order-sample', [benchEvent(0, v)], { expectedVersion: v });
  } finally {
    await store.close();
  }
  const journal = await Journal.open({ dir });
  const payloads: Uint8Array[] = [];
  try {
    for await (const rec of journal.readFrom(0)) payloads.push(Uint8Array.from(rec.payload));
  } finally {
    await journal.close();
  }
  if (payloads.length !== count) throw new Error(`the sample store holds ${payloads.length} records, expected ${count}`);
  return payloads;
}

export async function openPlainJournal(dir: string): Promise<Journal> {
  return Journal.open({ dir, durability: 'immediate', groupCommit: true });
}

/** `appenders` loops each awaiting its append, for `ms`; the same shape as workloads.appendSlice. */
export async function plainSlice(journal: Journal, payloads: Uint8Array[], ms: number, appenders: number): Promise<AppendSlice> {
  const latencies: number[] = [];
  let commits = 0;
  const start = performance.now();
  const deadline = start + ms;
  const loop = async (k: number): Promise<void> => {
    let i = k;
    let t0 = performance.now();
    while (t0 < deadline) {
      await journal.append(payloads[i % payloads.length]!);
      i += appenders;
      const t1 = performance.now();
      latencies.push((t1 - t0) * 1000);
      t0 = t1;
      commits++;
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, k) => loop(k)));
  return { commits, events: commits, ms: performance.now() - start, latencies };
}
