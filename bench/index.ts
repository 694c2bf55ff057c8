/**
 * `npm run bench [-- --quick | --smoke] [--only <suite>]`
 *
 * Runs every suite in bench/suites/ (one module each, exporting `name` and
 * `run(ctx)`), prints their tables, and appends the results to
 * bench/results/<YYYY-MM-DD>.json (not in --smoke mode, whose tiny sizes
 * only prove that every suite runs). Timings never fail a run: only a suite
 * that throws (a wrong result, a crash) makes the exit code non-zero.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatTable } from './lib/table.js';
import { loadAvg1, newRun, saveRun, type SuiteResult } from './lib/results.js';
import { cleanupOnSignals, TempDirs } from './lib/tempDirs.js';
import type { Mode, Suite, Table } from './lib/types.js';

const SUITES_DIR = join(import.meta.dirname, 'suites');
const RESULTS_DIR = join(import.meta.dirname, 'results');

interface Args {
  mode: Mode;
  only?: string;
}

const USAGE = 'usage: npm run bench -- [--quick | --smoke] [--only <suite>]';

function parseArgs(argv: string[]): Args {
  let quick = false;
  let smoke = false;
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--smoke') smoke = true;
    else if (arg === '--only') only = argv[++i];
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length);
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (quick && smoke) throw new UsageError('--quick and --smoke exclude each other');
  if (only === undefined && argv.some((a) => a === '--only')) throw new UsageError('--only needs a suite name');
  return { mode: smoke ? 'smoke' : quick ? 'quick' : 'full', only };
}

class UsageError extends Error {}

/** Every module in bench/suites/, sorted by file name, checked for the Suite shape. */
async function loadSuites(): Promise<Suite[]> {
  const files = readdirSync(SUITES_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  const suites: Suite[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(SUITES_DIR, file)).href)) as Partial<Suite>;
    if (typeof mod.name !== 'string' || typeof mod.run !== 'function') {
      throw new Error(`bench/suites/${file} must export \`name\` (string) and \`run(ctx)\``);
    }
    suites.push({ name: mod.name, run: mod.run });
  }
  return suites;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  }
  cleanupOnSignals();
  const all = await loadSuites();
  const selected = args.only === undefined ? all : all.filter((s) => s.name === args.only);
  if (selected.length === 0) {
    console.error(`no suite named ${JSON.stringify(args.only)}; suites: ${all.map((s) => s.name).join(', ')}`);
    return 2;
  }

  const run = newRun(args.mode);
  console.log(`episteme bench, mode ${args.mode}, ${run.node} on ${run.platform}, ${run.cpus}, load average ${run.loadAverage.start}`);
  let failed = 0;
  for (const suite of selected) {
    const tables: Table[] = [];
    const temp = new TempDirs();
    const result: SuiteResult = { name: suite.name, durationMs: 0, tables };
    const started = performance.now();
    console.log(`\n### suite ${suite.name}`);
    try {
      await suite.run({
        mode: args.mode,
        tempDir: (prefix) => temp.make(prefix),
        report: (table) => {
          tables.push(table);
          console.log(`\n${formatTable(table)}`);
        },
        log: (message) => console.error(`[${suite.name}] ${message}`),
      });
    } catch (err) {
      failed++;
      result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.error(`suite ${suite.name} failed: ${result.error}`);
    } finally {
      temp.cleanup();
    }
    result.durationMs = Math.round(performance.now() - started);
    run.suites.push(result);
    console.log(`\n(suite ${suite.name}: ${(result.durationMs / 1000).toFixed(1)} s)`);
  }

  run.loadAverage.end = loadAvg1();
  // A load average near or above the CPU count means other work shared the CPUs: compare ratios, not absolutes.
  console.log(`\nload average (1 min) at start ${run.loadAverage.start}, at end ${run.loadAverage.end}`);
  if (args.mode === 'smoke') console.log('\nsmoke mode: results not written');
  else console.log(`\nresults appended to ${saveRun(RESULTS_DIR, run)}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
