/**
 * Many single-event commits to new streams, 1000 at a time (what `episteme
 * import` writes), outside the bench suites, to profile the store's share
 * (`--cpu-prof`) or compare two builds by CPU time:
 *
 *   node --conditions=source --import tsx [--cpu-prof] bench/commitsProfile.ts [what] [n]
 *
 * what: `journal` (the journal's appendBatch of the commits' records),
 * `append` (the store's appendToStream of each, 'no_stream', settled
 * together), `each` (the store's appendEach of them), `encoded` (an EncodedCommitsBuilder's batches of them, appendEncoded), `import` (`episteme
 * import --workers 0` of them as NDJSON, in process), several with commas, or `all` (default: each in turn). Durability `immediate` with
 * group commit, as the import opens the store. Prints CPU and wall µs per commit.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '@episteme/wal';
import { EncodedCommitsBuilder, openEventStore } from '@episteme/store';
import { encodeCommit, prepareCommit } from '@episteme/store/internals';
import { prepareAssertion, runCli } from '@episteme/demo';

const what = process.argv[2] ?? 'all';
const n = Number(process.argv[3] ?? 100_000);
const BATCH = 1000;

function input(i: number): Record<string, unknown> {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  return { subject: `entity-${h % 2000}`, predicate: 'hasColor', object: `value-${(h >>> 7) % 5000}`, confidence: ((h >>> 3) % 1001) / 1000, source: 'survey' };
}

const prepared = Array.from({ length: n }, (_, i) => prepareAssertion(input(i)));
const lines = Array.from({ length: n }, (_, i) => JSON.stringify(input(i)) + '\n').join('');
const payloads = prepared.map((p) => encodeCommit(prepareCommit(p.stream, [p.event]), 1, Date.now()));
const NO_STREAM = { expectedVersion: 'no_stream' as const };

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'episteme-commits-profile-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases: Record<string, () => Promise<void>> = {
  encoded: () =>
    inTempDir(async (dir) => {
      const store = await openEventStore({ dir, durability: 'immediate', groupCommit: true });
      const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
      for (let i = 0; i < n; i += BATCH) {
        for (let j = i; j < Math.min(n, i + BATCH); j++) builder.add(prepared[j]!.stream, [prepared[j]!.event], 'no_stream');
        const outcomes = await store.appendEncoded(builder.take());
        if (outcomes.refused.size > 0) throw [...outcomes.refused.values()][0];
      }
      await store.close();
    }),
  journal: () =>
    inTempDir(async (dir) => {
      const journal = await Journal.open({ dir, durability: 'immediate', groupCommit: true });
      for (let i = 0; i < n; i += BATCH) await journal.appendBatch(payloads.slice(i, i + BATCH));
      await journal.close();
    }),
  append: () =>
    inTempDir(async (dir) => {
      const store = await openEventStore({ dir, durability: 'immediate', groupCommit: true });
      for (let i = 0; i < n; i += BATCH) {
        const results = await Promise.allSettled(prepared.slice(i, i + BATCH).map((p) => store.appendToStream(p.stream, [p.event], NO_STREAM)));
        for (const r of results) if (r.status === 'rejected') throw r.reason;
      }
      await store.close();
    }),
  import: () =>
    inTempDir(async (dir) => {
      const file = join(dir, 'in.ndjson');
      writeFileSync(file, lines);
      let out = '';
      const code = await runCli(['--data', join(dir, 'data'), '--json', 'import', '--workers', '0', file], { stdout: (s) => void (out += s), stderr: () => undefined, stderrIsTTY: false, env: {} });
      if (code !== 0) throw new Error(`import failed (${code}): ${out}`);
    }),
  each: () =>
    inTempDir(async (dir) => {
      const store = await openEventStore({ dir, durability: 'immediate', groupCommit: true });
      for (let i = 0; i < n; i += BATCH) {
        const outcomes = await store.appendEach(prepared.slice(i, i + BATCH).map((p) => ({ stream: p.stream, events: [p.event], expectedVersion: 'no_stream' as const })));
        for (const r of outcomes) if (r.status === 'rejected') throw r.reason;
      }
      await store.close();
    }),
};

const chosen = what === 'all' ? Object.keys(cases) : what.split(',');
const rounds = Number(process.env.ROUNDS ?? 3);
const cpu = new Map<string, number[]>(chosen.map((c) => [c, []]));
const wall = new Map<string, number[]>(chosen.map((c) => [c, []]));
const idle = new Map<string, number[]>(chosen.map((c) => [c, []]));
for (const name of chosen) {
  if (cases[name] === undefined) throw new Error(`unknown case ${name}; cases: ${Object.keys(cases).join(', ')}`);
  await cases[name]!(); // warm-up
}
// the cases take turns, so that a change of the machine's load falls on each alike
for (let r = 0; r < rounds; r++) {
  for (const name of chosen) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const e0 = performance.eventLoopUtilization();
    await cases[name]!();
    const c = process.cpuUsage(c0);
    const e = performance.eventLoopUtilization(e0);
    idle.get(name)!.push(e.idle / (e.idle + e.active));
    cpu.get(name)!.push((c.user + c.system) / n);
    wall.get(name)!.push(((performance.now() - t0) * 1000) / n);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const name of chosen) {
  console.log(`${name.padEnd(8)} ${median(cpu.get(name)!).toFixed(2)} µs CPU per commit (min ${Math.min(...cpu.get(name)!).toFixed(2)}), ${median(wall.get(name)!).toFixed(2)} µs wall, event loop idle ${(median(idle.get(name)!) * 100).toFixed(0)}% (medians of ${rounds})`);
}
