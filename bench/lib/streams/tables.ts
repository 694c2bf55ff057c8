import { ratio } from '../table.js';
import { median } from '../timing.js';
import type { Cell, Table } from '../types.js';
import { SIDE_LABELS, type SideId } from './sides.js';
import { percentile, type AppendSlice, type DatasetShape } from './workloads.js';

/**
 * The streams suite's tables. Figures are kept per `${workload}:${store}`,
 * one entry per round, so that every ratio can be taken between slices of
 * the same round (neighbours in time) before the median.
 */
export type RowKey = 'append1' | 'append64' | 'append10' | 'readStream' | 'aggregate' | 'catchUp';
export type AppendFigures = Map<string, AppendSlice[]>;
export interface ReadSample {
  ms: number;
  ops: number;
  events: number;
}
export type ReadFigures = Map<string, ReadSample[]>;

const APPEND_TITLES: Record<'append1' | 'append64' | 'append10', string> = {
  append1: '1 appender, 1 event per commit',
  append64: '64 appenders, distinct streams, 1 event',
  append10: '1 appender, commits of 10 events',
};
const READ_TITLES: Record<'readStream' | 'aggregate' | 'catchUp', string> = {
  readStream: 'readStream (whole stream)',
  aggregate: 'aggregateStream (whole stream)',
  catchUp: 'catch-up from position 0',
};

const eventRate = (s: { events: number; ms: number }): number => s.events / (s.ms / 1e3);

/** Ratio of the all-rounds rates, and the median of the same-round ratios. */
function ratios<T extends { events: number; ms: number }>(a: T[] | undefined, b: T[] | undefined): [number | null, number | null] {
  if (!a?.length || !b?.length) return [null, null];
  const sum = (xs: T[]): { events: number; ms: number } => ({ events: xs.reduce((n, x) => n + x.events, 0), ms: xs.reduce((n, x) => n + x.ms, 0) });
  const paired = a.map((x, i) => (b[i] ? ratio(eventRate(x), eventRate(b[i]!)) : null)).filter((x): x is number => x !== null);
  return [ratio(eventRate(sum(a)), eventRate(sum(b))), paired.length ? median(paired) : null];
}

export function appendTable(rounds: number, sliceMs: number, ids: SideId[], f: AppendFigures, payloadBytes: number, notes: string[]): Table {
  const rows: Cell[][] = [];
  for (const key of ['append1', 'append64', 'append10'] as const) {
    const e = f.get(`${key}:episteme`);
    for (const id of [...ids, ...(key === 'append10' ? [] : ['plain' as const])]) {
      const ss = f.get(`${key}:${id}`);
      if (!ss?.length) continue;
      const commits = ss.reduce((n, s) => n + s.commits, 0);
      const events = ss.reduce((n, s) => n + s.events, 0);
      const ms = ss.reduce((n, s) => n + s.ms, 0);
      const lat = ss.flatMap((s) => s.latencies);
      const label = id === 'plain' ? `plain Journal.append, same ${Math.round(payloadBytes)} B records` : SIDE_LABELS[id];
      rows.push([APPEND_TITLES[key], label, commits / (ms / 1e3), events / (ms / 1e3), percentile(lat, 0.5), percentile(lat, 0.99), id === 'episteme' ? null : ratios(e, ss)[1]]);
    }
  }
  return {
    title: 'streams: appends with an expected version, durable',
    notes: [
      `${rounds} rounds of ${sliceMs} ms slices per store and workload, order rotated each round (backwards in odd rounds); one long-lived store per side, new streams per slice.`,
      'appendToStream with an expected version: each appender awaits its commit, then appends the next with the version the commit returned. Events are ~150 B of JSON.',
      'Episteme/this = median over rounds of the same-round ratio of events/s (>1: Episteme faster).',
      'The plain Journal.append row writes, with the same journal options, the exact records the store wrote for the same commits (read back from a store).',
      ...notes,
    ],
    columns: ['workload', 'store', 'commits/s', 'events/s', 'p50 µs', 'p99 µs', 'Episteme/this'],
    rows,
  };
}

export function readTable(rounds: number, readOps: number, d: DatasetShape, ids: SideId[], f: ReadFigures, fillRates: Map<SideId, number>, notes: string[]): Table {
  const rows: Cell[][] = [];
  for (const key of ['readStream', 'aggregate', 'catchUp'] as const) {
    const e = f.get(`${key}:episteme`);
    for (const id of ids) {
      const ss = f.get(`${key}:${id}`);
      if (!ss?.length) continue;
      const ms = ss.reduce((n, s) => n + s.ms, 0);
      const ops = ss.reduce((n, s) => n + s.ops, 0);
      const events = ss.reduce((n, s) => n + s.events, 0);
      rows.push([READ_TITLES[key], SIDE_LABELS[id], ops / (ms / 1e3), events / (ms / 1e3), ms / ops, id === 'episteme' ? null : ratios(e, ss)[1], fillRates.get(id) ?? null]);
    }
  }
  return {
    title: `streams: reads, ${d.hotLength}-event streams among ${d.streams.toLocaleString('en-US')} streams`,
    notes: [
      `Each store holds ${d.streams.toLocaleString('en-US')} streams: ${d.hot} of ${d.hotLength} events (one per commit, spread over the whole log) and one event in each of the others; a store of its own per side, page cache warm.`,
      `${rounds} rounds, order rotated (backwards in odd rounds); per round and side ${readOps} readStream and ${readOps} aggregateStream calls (the ${d.hot} long streams in turn) and one full catch-up.`,
      "Catch-up: Episteme readAll(0); Emmett: readMessagesBatch (what its consumers pull with) in a loop of 1,000-event batches, without the consumers' pause between batches.",
      "Every side decodes each event's JSON data. Episteme checks each record it reads: bounds, length and CRC32C, which covers every other byte of the record (verifyOnRead 'crc', the default; docs/FORMAT.md, \"What a read checks\"); SQLite keeps no checksum of its pages (none in its default build).",
      'Episteme/this = median of same-round ratios of events/s. fill ev/s = events/s writing this dataset (Episteme durability none, SQLite synchronous=OFF on one connection, PostgreSQL synchronous_commit=off, 64 in flight except SQLite).',
      ...notes,
    ],
    columns: ['workload', 'store', 'ops/s', 'events/s', 'ms/op', 'Episteme/this', 'fill ev/s'],
    rows,
  };
}

interface Goal {
  what: string;
  key: RowKey;
  vs: SideId | 'plain';
  target: number;
}

const GOALS: Goal[] = [
  { what: 'appends, 1 appender: Episteme / Emmett SQLite', key: 'append1', vs: 'sqlite', target: 2 },
  { what: 'appends, 64 appenders: Episteme / Emmett SQLite', key: 'append64', vs: 'sqlite', target: 10 },
  { what: 'appends, 64 appenders: Episteme / Emmett PostgreSQL', key: 'append64', vs: 'postgres', target: 3 },
  { what: 'readStream: Episteme / Emmett SQLite', key: 'readStream', vs: 'sqlite', target: 2 },
  { what: 'aggregateStream: Episteme / Emmett SQLite', key: 'aggregate', vs: 'sqlite', target: 2 },
  { what: 'catch-up from 0: Episteme / Emmett SQLite', key: 'catchUp', vs: 'sqlite', target: 3 },
  { what: 'appends with an expected version / plain append of the same bytes, 1 appender', key: 'append1', vs: 'plain', target: 0.9 },
  { what: 'appends with an expected version / plain append of the same bytes, 64 appenders', key: 'append64', vs: 'plain', target: 0.9 },
];

/** Diagnostic lines beside the goals: the other peer where the goal names one. */
const EXTRA: Array<Omit<Goal, 'target'>> = [
  { what: 'appends, 1 appender: Episteme / Emmett PostgreSQL', key: 'append1', vs: 'postgres' },
  { what: 'commits of 10 events: Episteme / Emmett SQLite', key: 'append10', vs: 'sqlite' },
  { what: 'commits of 10 events: Episteme / Emmett PostgreSQL', key: 'append10', vs: 'postgres' },
  { what: 'readStream: Episteme / Emmett PostgreSQL', key: 'readStream', vs: 'postgres' },
  { what: 'aggregateStream: Episteme / Emmett PostgreSQL', key: 'aggregate', vs: 'postgres' },
  { what: 'catch-up from 0: Episteme / Emmett PostgreSQL', key: 'catchUp', vs: 'postgres' },
];

export function goalsTable(appends: AppendFigures, reads: ReadFigures, skipped: Map<SideId, string>, rssMb: number, rssGoal: number, streams: number): Table {
  const figures = (key: RowKey, id: string): Array<{ events: number; ms: number }> | undefined => (key.startsWith('append') ? appends.get(`${key}:${id}`) : reads.get(`${key}:${id}`));
  const row = (g: Omit<Goal, 'target'> & { target?: number }): Cell[] => {
    if (g.vs !== 'plain' && skipped.has(g.vs)) return [g.what, null, null, g.target === undefined ? '(diagnostic)' : `>= ${g.target}`, 'peer skipped'];
    const [all, paired] = ratios(figures(g.key, 'episteme'), figures(g.key, g.vs));
    const met = g.target === undefined ? '-' : paired === null ? '-' : paired >= g.target ? 'yes' : 'no';
    return [g.what, all, paired, g.target === undefined ? '(diagnostic)' : `>= ${g.target}`, met];
  };
  return {
    title: 'streams: goals',
    notes: [
      'measured = ratio of the all-rounds event rates; paired = median of the same-round ratios, which decides "met" (the disk has fast and slow phases).',
      'Timings never fail the run. Lines marked (diagnostic) have no goal; they show the peer the goal does not name.',
    ],
    columns: ['goal', 'measured', 'paired', 'target', 'met'],
    rows: [
      ...GOALS.map(row),
      [`RSS with ${streams.toLocaleString('en-US')} streams, MB (peak of the open)`, rssMb, null, `< ${rssGoal}`, rssMb < rssGoal ? 'yes' : 'no'],
      ...EXTRA.map(row),
    ],
  };
}
