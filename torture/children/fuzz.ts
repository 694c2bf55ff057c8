/**
 * The bad-input fuzz, in its own process (the parent watches it for hangs,
 * crashes and memory): random and damaged segments, cursor files and
 * snapshots through every decoder and reader, random argument vectors
 * through every CLI parser. Runs with its scratch directory as cwd. Prints:
 *   case <n> <target>          before running case n
 *   bad <n> <target> <what>    a violation (untyped error, bad exit code, changed files...)
 *   note <text>
 *   done <json counts>
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzTargets } from '../lib/fuzz/targets.js';
import { mix, Rng } from '../lib/rng.js';
import { configFromArgv, describe, oneLine, out, watchParent } from './common.js';

watchParent();
const cfg = configFromArgv<{ seed: number; budgetMs: number; scratch: string; onlyCase?: number }>();
process.chdir(cfg.scratch);
const { targets, setup } = fuzzTargets();
const notes = await setup(cfg.scratch);
for (const n of notes) out(`note ${oneLine(n)}`);

const deadline = performance.now() + cfg.budgetMs;
const counts: Record<string, number> = {};
let peakRss = 0;
let peakArrayBuffers = 0;
const first = cfg.onlyCase ?? 0;
for (let n = first; cfg.onlyCase !== undefined ? n === first : performance.now() < deadline; n++) {
  const rng = new Rng(mix(cfg.seed, `fuzz:${n}`));
  const names = Object.keys(targets).filter((t) => targets[t]!.available);
  const name = rng.weighted(Object.fromEntries(names.map((t) => [t, targets[t]!.weight])));
  out(`case ${n} ${name}`);
  let bad = false;
  const ctx = {
    scratch: cfg.scratch,
    bad: (m: string) => {
      bad = true;
      out(`bad ${n} ${name} ${oneLine(m)}`);
    },
    tally: (key: string) => {
      counts[key] = (counts[key] ?? 0) + 1;
    },
  };
  try {
    await targets[name]!.run(rng, ctx, n);
  } catch (err) {
    ctx.bad(`the case itself failed: ${describe(err)}`);
  }
  // each case works in its own directory: remove it, or a long run fills the disk
  for (const sub of ['segments', 'cursors', 'snapshots', 'odd']) rmSync(join(cfg.scratch, sub, String(n)), { recursive: true, force: true });
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
  if (m.arrayBuffers > 512 * 1024 * 1024 || m.heapUsed > 768 * 1024 * 1024) {
    ctx.bad(`memory after the case: ${Math.round(m.heapUsed / 2 ** 20)} MiB heap, ${Math.round(m.arrayBuffers / 2 ** 20)} MiB array buffers`);
  }
  counts[name] = (counts[name] ?? 0) + 1;
  if (bad) counts[`${name} (bad)`] = (counts[`${name} (bad)`] ?? 0) + 1;
}
counts['peak RSS MiB'] = Math.round(peakRss / 2 ** 20);
counts['peak array buffers MiB'] = Math.round(peakArrayBuffers / 2 ** 20);
out(`done ${JSON.stringify(counts)}`);
process.exit(0);
