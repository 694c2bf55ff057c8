import { join } from 'node:path';
import { Journal } from '@episteme/wal';
import { signalCheckpoint } from '../tempDirs.js';
import type { BenchContext, Table } from '../types.js';
import { runJsonChild } from './children.js';
import type { MemoryChildArgs, MemoryChildResult } from './memoryChild.js';
import { jsonEvents } from './payloads.js';

/*
 * Issue 7's memory goal: peak RSS while reading a journal from start to end
 * and while rebuilding a projection over it, each in its own child process.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
export const RSS_GOAL_MB = 200;
/** Size of the JSON events of the memory check. */
const JSON_EVENT_BYTES = 512;

/** Writes a `memoryLog`-byte journal of JSON events, reads it and rebuilds over it in children; the table of peaks. */
export async function memoryCheck(ctx: BenchContext, memoryLog: number): Promise<Table> {
  const dir = join(ctx.tempDir('episteme-bench-peers-mem-'), 'journal');
  ctx.log(`memory: writing a ${(memoryLog / MiB).toFixed(0)} MiB journal of ~${JSON_EVENT_BYTES} B JSON events`);
  const events = jsonEvents(4096, JSON_EVENT_BYTES);
  const journal = await Journal.open({ dir, durability: 'none' });
  let records = 0;
  try {
    while (journal.head < memoryLog) {
      const batch: Buffer[] = [];
      for (let k = 0; k < 8192; k++) batch.push(events[(records + k) % events.length]!);
      await journal.appendBatch(batch);
      records += batch.length;
    }
  } finally {
    await journal.close();
  }
  await signalCheckpoint();
  const results: MemoryChildResult[] = [];
  for (const mode of ['read', 'rebuild'] as const) {
    ctx.log(`memory: ${mode} in a child process`);
    const args: MemoryChildArgs = { dir, mode, records };
    results.push(await runJsonChild<MemoryChildResult>('memoryChild', args));
    await signalCheckpoint();
  }
  const mb = (b: number): number => b / 1e6;
  return {
    title: `peers: peak RSS reading a ${memoryLog >= GiB ? `${memoryLog / GiB} GiB` : `${memoryLog / MiB} MiB`} journal from start to end, and rebuilding a projection over it`,
    notes: [
      `Goal (issue 7): under ${RSS_GOAL_MB} MB for a 2 GiB log (full mode; quick and smoke use a smaller log). Each in its own child process (plain node running a bundle of the sources, no tsx).`,
      'peak = VmHWM of /proc/self/status (the kernel high-water mark); sampled = max of process.memoryUsage.rss() samples; baseline = RSS before the first read.',
      `read: readFrom(0) over every record; rebuild: ProjectionEngine (in-memory snapshot store) rebuilding a counting projection over ~${JSON_EVENT_BYTES} B JSON events.`,
    ],
    columns: ['workload', 'log MiB', 'records', 's', 'log MB/s', 'records/s', 'baseline MB', 'peak MB', 'sampled MB', 'goal MB', 'met'],
    rows: results.map((r) => {
      const peak = r.vmHwm ?? r.sampledPeakRss;
      return [
        r.mode === 'read' ? 'read from start (readFrom)' : 'rebuild counting projection',
        r.bytes / MiB,
        r.records,
        r.ms / 1e3,
        r.bytes / 1e6 / (r.ms / 1e3),
        r.records / (r.ms / 1e3),
        mb(r.baselineRss),
        mb(peak),
        mb(r.sampledPeakRss),
        RSS_GOAL_MB,
        mb(peak) < RSS_GOAL_MB ? 'yes' : 'no',
      ];
    }),
  };
}
