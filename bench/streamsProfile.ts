/**
 * The streams suite's rows one at a time, outside the suite, to profile
 * them (`--cpu-prof`) or compare two builds by CPU time (the suite's wall
 * times move with whatever else the machine runs):
 *
 *   node --conditions=source --import tsx [--cpu-prof] bench/streamsProfile.ts <what> [dir]
 *
 * what: `fill` (the read dataset, into `dir`), `read`, `aggregate`,
 * `catchup` (on `dir`), `append1`, `append64` (the store, into a new
 * directory), `plain1`, `plain64` (plain Journal.append of the store's
 * bytes). Env: STREAMS (dataset size, default 100,000), OPS (readStream /
 * aggregateStream calls), REPS (catch-ups), MS (append time), SYNC=1
 * (appends `immediate` with group commit, else `none`), SIDE=sqlite (Emmett
 * SQLite instead of Episteme for fill and the reads; bench/peers installed).
 * Prints CPU time per event or commit (the whole process: every thread).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventStore, type Event } from '@episteme/store';
import { Journal, nodeFileIO, type FileIO } from '@episteme/wal';
import { loadPeers, type PeersModule } from './lib/streams/peersPackage.js';
import { commitPayloads, plainSlice } from './lib/streams/plainJournal.js';
import { openEpisteme, openSQLite, SIDE_LABELS, type Side } from './lib/streams/sides.js';
import { appendSlice, datasetEvents, fillDataset, hotStream, type AppendSlice } from './lib/streams/workloads.js';

const what = process.argv[2] ?? 'read';
const dir = process.argv[3] ?? join(tmpdir(), 'episteme-streams-profile');
const d = { streams: Number(process.env.STREAMS ?? 100_000), hot: 16, hotLength: 100 };
const sqlite = process.env.SIDE === 'sqlite';

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function open(at: string, fill = false): Promise<Side> {
  if (!sqlite) return openEpisteme(at, fill);
  const peers = await loadPeers('quick', console.error);
  if (typeof peers === 'string') throw new Error(peers);
  return openSQLite(peers as PeersModule, at, fill);
}

async function appends(): Promise<void> {
  const appenders = what.endsWith('64') ? 64 : 1;
  const ms = Number(process.env.MS ?? 3000);
  const base = mkdtempSync(join(tmpdir(), 'episteme-streams-profile-append-'));
  let syncs = 0;
  const io: FileIO = { ...nodeFileIO, fsyncAsync: (fd) => (syncs++, nodeFileIO.fsyncAsync(fd)) };
  const durability = process.env.SYNC === '1' ? ({ durability: 'immediate', groupCommit: true } as const) : ({ durability: 'none' } as const);
  let run: (ms: number) => Promise<AppendSlice>;
  let close: () => Promise<void>;
  if (what.startsWith('append')) {
    const store = await openEventStore({ dir: base, io, ...durability });
    const side: Side = {
      id: 'episteme',
      label: SIDE_LABELS.episteme,
      retried: 0,
      append: async (stream, events, expected) => (await store.appendToStream(stream, events as Event[], { expectedVersion: expected })).nextExpectedVersion,
      readStream: () => Promise.reject(new Error('appends only')),
      aggregate: () => Promise.reject(new Error('appends only')),
      catchUp: () => Promise.reject(new Error('appends only')),
      close: () => store.close(),
    };
    run = (t) => appendSlice(side, t, appenders, 1);
    close = () => store.close();
  } else {
    const payloads = await commitPayloads(join(base, 'sample'), 256);
    const journal = await Journal.open({ dir: join(base, 'journal'), io, ...durability });
    run = (t) => plainSlice(journal, payloads, t, appenders);
    close = () => journal.close();
  }
  await run(300); // warm-up
  syncs = 0;
  const c0 = cpuMs();
  const slice = await run(ms);
  const cpu = cpuMs() - c0;
  console.log(`${what} ${durability.durability}: ${slice.commits} commits, ${((cpu * 1000) / slice.commits).toFixed(2)} µs CPU/commit, ${Math.round(slice.commits / (slice.ms / 1000))}/s wall, ${(slice.commits / Math.max(1, syncs)).toFixed(1)} commits per sync`);
  await close();
}

async function reads(): Promise<void> {
  if (!existsSync(dir)) throw new Error(`no dataset in ${dir}: run \`fill\` first`);
  const side = await open(dir);
  const ops = Number(process.env.OPS ?? 2000);
  const reps = Number(process.env.REPS ?? 1);
  const once = async (): Promise<number> => {
    if (what === 'read') for (let i = 0; i < ops; i++) await side.readStream(hotStream(i % d.hot));
    else if (what === 'aggregate') for (let i = 0; i < ops; i++) await side.aggregate(hotStream(i % d.hot));
    else if (what === 'catchup') {
      for (let i = 0; i < reps; i++) await side.catchUp();
      return reps * datasetEvents(d);
    } else throw new Error(`unknown workload ${what}`);
    return ops * d.hotLength;
  };
  await once(); // warm-up
  const c0 = cpuMs();
  const t0 = performance.now();
  const events = await once();
  const cpu = cpuMs() - c0;
  const wall = performance.now() - t0;
  console.log(`${what} ${side.label}: ${events} events, ${((cpu * 1000) / events).toFixed(3)} µs CPU/event, ${((wall * 1000) / events).toFixed(3)} µs wall/event, ${Math.round(events / (wall / 1000))} events/s wall`);
  await side.close();
}

if (what === 'fill') {
  const side = await open(dir, true);
  await fillDataset(side, d, sqlite ? 1 : 64, () => undefined);
  await side.close();
  console.log(`filled ${dir}: ${datasetEvents(d)} events in ${d.streams} streams`);
} else if (what.startsWith('append') || what.startsWith('plain')) await appends();
else await reads();
