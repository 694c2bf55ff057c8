/**
 * The Episteme torture run: crash, power loss, disk full and bad input
 * across the whole system, with figures. See torture/README.md.
 *
 *   node --conditions=source --import tsx torture/index.ts --minutes N [--seed S]
 *
 * Sessions run one after another until the time is spent; each derives its
 * seed from the run's seed and its number, so `--seed S --session N`
 * replays one. Exit code 0 when no invariant was violated, 1 otherwise, 2
 * on a usage error.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTortureArgs, TortureUsageError, USAGE, type Kind, type TortureArgs } from './lib/args.js';
import { killAllChildren } from './lib/children.js';
import { Figures } from './lib/figures.js';
import { runFuzz } from './lib/fuzzRun.js';
import { runProcessSession } from './lib/processSession.js';
import { mix, Rng } from './lib/rng.js';
import type { SessionEnv } from './lib/session.js';
import { runSimSession } from './lib/simSession.js';
import { runProcessStreamSession } from './lib/streams/processStreams.js';
import { runSimStreamSession } from './lib/streams/simStreams.js';
import { unmountAll } from './lib/tmpfs.js';

const SESSION_WEIGHTS: Record<Exclude<Kind, 'fuzz'>, number> = { sim: 4, process: 4.5, tmpfs: 1.5, streams: 12 };
/** Of the streams sessions, this share run on the simulated disk (power loss); the rest are processes (SIGKILL). */
const STREAMS_SIM_SHARE = 0.8;

async function main(): Promise<number> {
  let args: TortureArgs;
  try {
    args = parseTortureArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof TortureUsageError)) throw err;
    process.stderr.write(`torture: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = args.seed ?? randomInt(0, 2 ** 32 - 1);
  const command = `node --conditions=source --import tsx torture/index.ts --minutes ${args.minutes}`;
  const figures = new Figures();
  const workDir = mkdtempSync(join(tmpdir(), 'episteme-torture-'));
  const budgetMs = args.minutes * 60_000;
  const replaying = args.session !== undefined || args.fuzzCase !== undefined;
  let interrupted = false;
  const deadline = performance.now() + budgetMs;
  const env: SessionEnv = { figures, seed, command, workDir, keep: args.keep, timeUp: () => interrupted || (!replaying && performance.now() > deadline) };
  const cleanup = (): void => {
    killAllChildren();
    unmountAll();
    if (!args.keep) rmSync(workDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      cleanup();
      process.exit(130);
    }
    interrupted = true;
    process.stdout.write(`\n${signal}: finishing the current cycle, then the figures (again to stop at once)\n`);
    killAllChildren();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const wants = (k: Kind): boolean => args.only === undefined || args.only.has(k);
  const isRoot = process.getuid?.() === 0;
  process.stdout.write(`episteme torture: seed ${seed}, ${args.minutes} min, work dir ${workDir}${replaying ? ' (replay)' : ''}\n`);
  if (!isRoot && wants('tmpfs')) figures.note('not running as root: the real tmpfs disk-full sessions are skipped (run as root to include them)');
  try {
    if (args.fuzzCase !== undefined) {
      await runFuzz(env, 0, args.fuzzCase);
    } else if (args.session !== undefined) {
      await runSession(args.session, env, wants, isRoot);
    } else {
      if (wants('fuzz')) {
        const fuzzMs = args.only?.size === 1 ? budgetMs : Math.min(Math.max(budgetMs * 0.12, 6_000), 240_000);
        process.stdout.write(`bad-input fuzz: ${(fuzzMs / 1000).toFixed(0)} s\n`);
        await runFuzz(env, fuzzMs);
      }
      const kinds = (Object.keys(SESSION_WEIGHTS) as Array<Exclude<Kind, 'fuzz'>>).filter(wants);
      for (let i = 0; kinds.length > 0 && !env.timeUp(); i++) await runSession(i, env, wants, isRoot);
    }
  } catch (err) {
    figures.violation('harness', `${command} --seed ${seed}`, `the run itself failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    cleanup();
  }
  process.stdout.write(figures.render(seed, command));
  if (figures.violations.length > 0) {
    process.stdout.write(`FAILED: ${figures.violations.length} invariant violation(s); seed ${seed}\n`);
    return 1;
  }
  process.stdout.write(`OK: no invariant violated (seed ${seed})\n`);
  return 0;
}

/** Session `index`: its kind and everything else come from mix(seed, index). */
async function runSession(index: number, env: SessionEnv, wants: (k: Kind) => boolean, isRoot: boolean): Promise<void> {
  const rng = new Rng(mix(env.seed, index));
  const weights = Object.fromEntries(Object.entries(SESSION_WEIGHTS).filter(([k]) => wants(k as Kind))) as Record<string, number>;
  if (Object.keys(weights).length === 0) return;
  let kind = rng.weighted(weights);
  if (kind === 'tmpfs' && !isRoot) {
    if (!wants('process') && !wants('sim')) return;
    kind = wants('process') ? 'process' : 'sim';
  }
  const started = performance.now();
  const violationsBefore = env.figures.violations.length;
  if (kind === 'sim') await runSimSession(index, rng, env);
  else if (kind === 'process') await runProcessSession(index, rng, env);
  else if (kind === 'streams') {
    if (rng.chance(STREAMS_SIM_SHARE)) await runSimStreamSession(index, rng, env);
    else await runProcessStreamSession(index, rng, env);
  }
  else await runProcessSession(index, rng, env, { mountDir: join(env.workDir, `tmpfs-${index}`) });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  const bad = env.figures.violations.length - violationsBefore;
  process.stdout.write(`session ${index} (${kind}) ${secs} s${bad > 0 ? `: ${bad} violation(s)` : ''}; acknowledged so far ${env.figures.get('records.acked')} records and ${env.figures.get('streams.commitsAcked')} stream commits, checks ${env.figures.get('check.total')}\n`);
}

process.exitCode = await main();
