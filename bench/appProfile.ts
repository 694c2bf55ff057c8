/**
 * The app's write path one step at a time, outside the bench suites, to
 * profile it (`--cpu-prof`) or compare two builds by CPU time:
 *
 *   node --conditions=source --import tsx [--cpu-prof] bench/appProfile.ts [what] [n]
 *
 * what: `steps` (default: each step of an assertion's way to the log timed
 * alone: validation, prepareAssertion, the event's JSON, the store's
 * appendToStream of prepared events, durability `none`), or one of
 * `validate`, `prepare`, `append` alone (for a profile of that step), or
 * `demo` (the demo's append phase: 64 producers, projections and audit
 * export following), or `import` (`episteme import` of n lines in process, `WORKERS` threads, 0 by
 * default; not part of `steps`).
 * Prints CPU µs per assertion (the whole process).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventStore } from '@episteme/store';
import { writeFileSync } from 'node:fs';
import { container } from 'tsyringe';
import { appOf, AssertionMade, prepareAssertion, resolveConfig, runAppendPhase, runCli, validated, wire } from '@episteme/demo';

const what = process.argv[2] ?? 'steps';
const n = Number(process.argv[3] ?? 100_000);

function input(i: number): Record<string, unknown> {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  return { subject: `entity-${h % 2000}`, predicate: 'hasColor', object: `value-${(h >>> 7) % 5000}`, confidence: ((h >>> 3) % 1001) / 1000, source: 'survey' };
}

const inputs = Array.from({ length: n }, (_, i) => input(i));
const full = inputs.map((x, i) => ({ ...x, id: `a-${i}`, assertedAt: '2026-12-07T16:00:00.000Z' }));

function cpuUs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / n;
}

async function cpuUsAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / n;
}

let sink = 0;
const steps: Record<string, () => number | Promise<number>> = {
  validate: () => cpuUs(() => { for (const x of full) sink += validated(AssertionMade, x, 'assertion').id.length; }),
  prepare: () => cpuUs(() => { for (const x of inputs) sink += prepareAssertion(x).id.length; }),
  stringify: () => {
    const events = full.slice(0, 1000).map((x) => prepareAssertion(x).event);
    return cpuUs(() => { for (let i = 0; i < n; i++) sink += JSON.stringify(events[i % 1000]).length; });
  },
  append: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'episteme-app-profile-'));
    const store = await openEventStore({ dir, durability: 'none' });
    const prepared = inputs.map((x) => prepareAssertion(x));
    try {
      return await cpuUsAsync(async () => {
        for (let i = 0; i < n; i += 1000) {
          await Promise.all(prepared.slice(i, i + 1000).map((p) => store.appendToStream(p.stream, [p.event], { expectedVersion: 'no_stream' })));
        }
      });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  demo: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'episteme-app-profile-'));
    const config = resolveConfig({ dataDir: dir, groupCommit: true, durability: 'immediate', maxSegmentBytes: 16 * 1024 * 1024 });
    const app = appOf(await wire(container.createChildContainer(), config));
    try {
      return await cpuUsAsync(async () => void (await runAppendPhase(app, n, 64)));
    } finally {
      app.audit.close();
      await app.store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  import: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'episteme-app-profile-'));
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, inputs.map((x) => JSON.stringify(x)).join('\n') + '\n');
    let out = '';
    try {
      return await cpuUsAsync(async () => {
        const code = await runCli(['--data', join(dir, 'data'), '--json', 'import', '--workers', process.env.WORKERS ?? '0', file], { stdout: (s) => void (out += s), stderr: () => undefined, stderrIsTTY: false, env: {} });
        if (code !== 0) throw new Error(`import failed (${code}): ${out}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const chosen = what === 'steps' ? Object.keys(steps).filter((s) => s !== 'import' && s !== 'demo') : [what];
for (const name of chosen) {
  const step = steps[name];
  if (step === undefined) throw new Error(`unknown step ${name}; steps: ${Object.keys(steps).join(', ')}`);
  await step(); // warm-up
  const t0 = performance.now();
  const us = await step();
  console.log(`${name.padEnd(10)} ${us.toFixed(2)} µs CPU per assertion, ${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs wall`);
}
if (sink < 0) console.log(sink);
