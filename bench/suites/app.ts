import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { container } from 'tsyringe';
import { appOf, AssertionMade, assertionInput, prepareAssertion, resolveConfig, runAppendPhase, validated, validatedByClassValidator, wire, type PreparedAssertion } from '@episteme/demo';
import { calibrate, interleavedRoundsAsync, median } from '../lib/timing.js';
import type { BenchContext, Cell, Mode } from '../lib/types.js';

/**
 * The assertions app's write path (issue 25), in one run:
 * - the app's append path from 64 concurrent callers (AssertionService.assert:
 *   validation, the event, appendToStream with 'no_stream', group commit,
 *   durable `immediate`) against the store's own appendToStream of the same
 *   prepared events from 64 callers, same journal options (goal >= 0.5);
 * - the validation of one assertion, compiled, against class-validator's
 *   validateSync as the app called it on every input before (goal >= 10x);
 * - the demo's append phase (64 producers, the projections and the audit
 *   export following) against the 7,406 assertions/s the issue measured
 *   before (goal >= 5x: 37,030/s on this machine).
 * `episteme import` against the journal's appendBatch is in the import suite.
 */
export const name = 'app';

const SIZES: Record<Mode, { assertions: number; rounds: number; validationMs: number }> = {
  full: { assertions: 100_000, rounds: 3, validationMs: 200 },
  quick: { assertions: 30_000, rounds: 2, validationMs: 100 },
  smoke: { assertions: 2_000, rounds: 1, validationMs: 5 },
};

const CALLERS = 64;
/** The demo's append phase before issue 25 (100,000 assertions, 64 producers, quiet machine). */
const DEMO_BEFORE = 7406;

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const dir = ctx.tempDir('episteme-bench-app-');
  ctx.log(`${size.assertions.toLocaleString('en-US')} assertions, ${CALLERS} callers, ${size.rounds} round(s)`);
  let runNo = 0;
  const openApp = async (): Promise<{ app: ReturnType<typeof appOf>; dataDir: string }> => {
    const dataDir = join(dir, `data-${runNo++}`);
    const config = resolveConfig({ dataDir, groupCommit: true, durability: 'immediate', maxSegmentBytes: 16 * 1024 * 1024 });
    return { app: appOf(await wire(container.createChildContainer(), config)), dataDir };
  };
  const closeApp = async ({ app, dataDir }: { app: ReturnType<typeof appOf>; dataDir: string }, expected: number): Promise<void> => {
    const streams = app.store.streamCount;
    app.audit.close();
    await app.store.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (streams !== expected) throw new Error(`expected ${expected} streams, the store holds ${streams}`);
  };
  /** `CALLERS` loops, each awaiting `one(i)` for its share of 0..n-1. */
  const concurrently = (n: number, one: (i: number) => Promise<unknown>): Promise<unknown> =>
    Promise.all(
      Array.from({ length: CALLERS }, async (_, k) => {
        for (let i = k; i < n; i += CALLERS) await one(i);
      }),
    );
  const inputs = Array.from({ length: size.assertions }, (_, i) => assertionInput(i, i % CALLERS));
  // the store's side gets the events the app would make, prepared before its clock starts
  const prepared: PreparedAssertion[] = inputs.map((x, i) => prepareAssertion(x, `producer-${i % CALLERS}`));

  const demo: { append: number[]; follow: number[] } = { append: [], follow: [] };
  const { wall, cpu } = await interleavedRoundsAsync(size.rounds, {
    app: async () => {
      const opened = await openApp();
      await concurrently(size.assertions, (i) => opened.app.service.assert(inputs[i]!, `producer-${i % CALLERS}`));
      await closeApp(opened, size.assertions);
    },
    store: async () => {
      const opened = await openApp();
      await concurrently(size.assertions, (i) => opened.app.store.appendToStream(prepared[i]!.stream, [prepared[i]!.event], { expectedVersion: 'no_stream' }));
      await closeApp(opened, size.assertions);
    },
    demo: async () => {
      const opened = await openApp();
      const r = await runAppendPhase(opened.app, size.assertions, CALLERS);
      demo.append.push(r.appendSeconds);
      demo.follow.push(r.followSeconds);
      await closeApp(opened, size.assertions);
    },
  });
  const rate = (ms: number[]): number => size.assertions / (median(ms) / 1000);
  const appRate = rate(wall.app);
  const storeRate = rate(wall.store);
  const demoRate = size.assertions / median(demo.append);

  // validation alone: the inputs as prepareAssertion hands them over (an id, a time shared by the events of a millisecond)
  const full = inputs.map((x, i) => ({ ...x, id: `a-${i.toString(36)}`, assertedAt: new Date(1_765_000_000_000 + Math.floor(i / 40)).toISOString() }));
  const distinctTimes = full.map((x, i) => ({ ...x, assertedAt: new Date(1_765_000_000_000 + i * 1000).toISOString() }));
  let at = 0;
  const over = (xs: Record<string, unknown>[], f: typeof validated) => (n: number): number => {
    let s = 0;
    for (let k = 0; k < n; k++) s += f(AssertionMade, xs[at++ % xs.length], 'assertion').confidence;
    return s;
  };
  const ns = cpuNsPerOp(
    { compiled: over(full, validated), compiledDistinct: over(distinctTimes, validated), classValidator: over(full, validatedByClassValidator) },
    Math.max(3, size.rounds * 2),
    size.validationMs,
  );

  const goal = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const r2 = (x: number): number => Number(x.toFixed(2));
  ctx.report({
    title: `app: the assertions app's write path (${size.assertions.toLocaleString('en-US')} assertions, ${CALLERS} callers, durable, group commit)`,
    notes: [
      `${size.rounds} round(s), cases interleaved, a fresh data directory each; medians. CPU s = process CPU time, all threads.`,
      'app = AssertionService.assert (validation, event, appendToStream with no_stream); store = appendToStream of the same events prepared beforehand;',
      `demo append phase = the same calls with the projections and the audit export following (runAppendPhase, as npm run demo). Before issue 25: ${DEMO_BEFORE.toLocaleString('en-US')}/s.`,
    ],
    columns: ['case', 'assertions/s', 'wall s', 'CPU s', 'ratio', 'goal'],
    rows: [
      ['store: appendToStream of prepared events', Math.round(storeRate), r2(median(wall.store) / 1000), r2(median(cpu.store) / 1000), 1, ''],
      ['app: AssertionService.assert', Math.round(appRate), r2(median(wall.app) / 1000), r2(median(cpu.app) / 1000), r2(appRate / storeRate), `>= 0.5 of store: ${goal(appRate / storeRate >= 0.5)}`],
      ['demo append phase (projections + audit following)', Math.round(demoRate), r2(median(demo.append)), r2(median(cpu.demo) / 1000), r2(demoRate / DEMO_BEFORE), `>= 5x ${DEMO_BEFORE}: ${goal(demoRate >= 5 * DEMO_BEFORE)}`],
    ] satisfies Cell[][],
  });
  ctx.report({
    title: 'app: validating one assertion (AssertionMade, valid input as prepareAssertion hands it over)',
    notes: ['CPU ns per assertion (one thread, CPU-bound: CPU time is not stretched by other load), calibrated batches, interleaved, median; ratio = validateSync ns / row ns.'],
    columns: ['case', 'ns/assertion', 'ratio', 'goal'],
    rows: [
      ['class-validator validateSync (before)', Math.round(ns.classValidator), 1, ''],
      ['compiled check (a time per millisecond, as the app makes them)', Math.round(ns.compiled), r2(ns.classValidator / ns.compiled), `>= 10x: ${goal(ns.classValidator / ns.compiled >= 10)}`],
      ['compiled check (every time distinct: the ISO check each time)', Math.round(ns.compiledDistinct), r2(ns.classValidator / ns.compiledDistinct), ''],
    ] satisfies Cell[][],
  });
}

/**
 * nsPerOp by CPU time instead of wall time: these cases are CPU-bound on one
 * thread, and on a shared machine wall time also counts the time the
 * thread waited for a core.
 */
function cpuNsPerOp<K extends string>(cases: Record<K, (n: number) => number>, rounds: number, targetMs: number): Record<K, number> {
  const names = Object.keys(cases) as K[];
  const iterations = Object.fromEntries(names.map((n) => [n, calibrate(cases[n], targetMs)])) as Record<K, number>;
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const c0 = process.cpuUsage();
      sink += cases[name](iterations[name]);
      const c = process.cpuUsage(c0);
      samples[name].push(((c.user + c.system) * 1000) / iterations[name]);
    }
  }
  if (sink === -1) console.log(sink);
  return Object.fromEntries(names.map((n) => [n, median(samples[n])])) as Record<K, number>;
}
