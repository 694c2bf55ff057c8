/**
 * Peak memory of reading a whole journal, or of rebuilding a projection over
 * it, in a process of its own so that nothing else counts: prints one JSON
 * line (MemoryChildResult) and exits.
 *
 * Peak = VmHWM from /proc/self/status, the kernel's high-water mark of the
 * resident set (every page ever resident at once, between any two samples),
 * with process.memoryUsage.rss() sampled along the way as a cross-check
 * (and on systems without /proc). Both include Node itself and the loaded
 * code: `baselineRss` is the resident set before the first read.
 *
 * Bundled and run by the peers suite (children.ts): node memoryChild.mjs '<json>'
 */
import { jsonCodec, ProjectionEngine, InMemorySnapshotStore, type EventCodec, type Projection } from '@episteme/projections';
import { Journal } from '@episteme/wal';
import { readFileSync } from 'node:fs';

export interface MemoryChildArgs {
  dir: string;
  mode: 'read' | 'rebuild';
  /** Records the journal holds: a count that differs fails the run. */
  records: number;
}

export interface MemoryChildResult {
  mode: 'read' | 'rebuild';
  records: number;
  /** Log bytes gone through (records with their headers). */
  bytes: number;
  ms: number;
  baselineRss: number;
  sampledPeakRss: number;
  /** null where /proc/self/status is not there. */
  vmHwm: number | null;
}

interface CountEvent {
  type: string;
  amount: number;
}

interface CountState {
  events: number;
  amount: number;
  byType: Record<string, number>;
}

/** The counting projection: events per type and the sum of amounts, over JSON payloads. */
const counting: Projection<CountState, CountEvent> = {
  name: 'bench-count',
  version: 1,
  codec: jsonCodec as EventCodec<CountEvent>,
  initialState: () => ({ events: 0, amount: 0, byType: {} }),
  apply: (s, e) => {
    s.events++;
    s.amount += e.amount;
    s.byType[e.type] = (s.byType[e.type] ?? 0) + 1;
    return s;
  },
};

function vmHwmBytes(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as MemoryChildArgs;
  let peak = 0;
  const sample = (): void => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const journal = await Journal.openForRead({ dir: args.dir });
  const baselineRss = process.memoryUsage.rss();
  peak = baselineRss;
  let records = 0;
  let bytes = 0;
  const t0 = performance.now();
  if (args.mode === 'read') {
    // readFrom never leaves the microtask queue while records are there, so timers would not fire: sample inline.
    let payloadBytes = 0;
    for await (const r of journal.readFrom(0)) {
      records++;
      payloadBytes += r.payload.length;
      if ((records & 0x3fff) === 0) sample();
    }
    if (records > 0 && payloadBytes === 0) throw new Error('read: empty payloads');
    bytes = journal.head;
  } else {
    // The rebuild yields to the event loop between batches: a timer samples.
    const timer = setInterval(sample, 20);
    try {
      const engine = new ProjectionEngine({ journal, store: new InMemorySnapshotStore(), logger: { warn: () => undefined } });
      engine.register(counting);
      const [report] = await engine.start({ follow: false });
      if (report?.mode !== 'rebuilt') throw new Error(`projection did not rebuild: ${report?.mode} ${report?.detail ?? ''}`);
      const { state } = engine.query<CountState>(counting.name);
      records = state.events;
      bytes = journal.head;
      await engine.stop();
    } finally {
      clearInterval(timer);
    }
  }
  const ms = performance.now() - t0;
  sample();
  await journal.close();
  if (records !== args.records) throw new Error(`${args.mode}: ${records} records, expected ${args.records}`);
  const result: MemoryChildResult = { mode: args.mode, records, bytes, ms, baselineRss, sampledPeakRss: peak, vmHwm: vmHwmBytes() };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
