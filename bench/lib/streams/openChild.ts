/**
 * Open time and memory of an event store holding many streams, in a
 * process of its own so that nothing of the benchmark counts: opens the
 * store (the journal's recovery and the stream index from its checkpoint),
 * checks that it knows every stream, reads one, closes, and prints one
 * JSON line (OpenChildResult).
 *
 * RSS after the open is the resident set holding the index; VmHWM is the
 * kernel's high-water mark over the whole open (anything the open held for
 * a moment counts too). Both include Node and the loaded code:
 * `baselineRss` is the resident set before the open.
 *
 * Bundled and run by the streams suite (child.ts): node openChild.mjs '<json>'
 */
import { openEventStore } from '@episteme/store';
import { readFileSync } from 'node:fs';

export interface OpenChildArgs {
  dir: string;
  streams: number;
}

export interface OpenChildResult {
  openMs: number;
  streams: number;
  /** Log records the open read to bring the index up to date (0 after a clean close). */
  recordsReplayed: number;
  baselineRss: number;
  rssAfterOpen: number;
  /** null where /proc/self/status is not there. */
  vmHwm: number | null;
}

function vmHwm(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const args = JSON.parse(process.argv[2]!) as OpenChildArgs;
const baselineRss = process.memoryUsage.rss();
const t0 = performance.now();
const store = await openEventStore({ dir: args.dir, durability: 'immediate', groupCommit: true });
const openMs = performance.now() - t0;
// what the open left resident, after a collection (garbage of the open is not the index's cost)
(globalThis as { gc?: () => void }).gc?.();
const rssAfterOpen = process.memoryUsage.rss();
if (store.streamCount !== args.streams) throw new Error(`the store knows ${store.streamCount} streams, expected ${args.streams}`);
const read = await store.readStream('order-c0');
if (read.currentVersion !== 1) throw new Error(`order-c0 is at version ${read.currentVersion}, expected 1`);
const result: OpenChildResult = { openMs, streams: store.streamCount, recordsReplayed: store.openStats.recordsReplayed, baselineRss, rssAfterOpen, vmHwm: vmHwm() };
await store.close();
console.log(JSON.stringify(result));
