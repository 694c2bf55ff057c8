import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openEventStore, type LocalEventStore } from '@episteme/store';
import type { Durability, GroupCommitOptions } from '@episteme/wal';
import { Child } from '../children.js';
import { describeError } from '../files.js';
import type { Rng } from '../rng.js';
import { replayOf, sleep, type SessionEnv } from '../session.js';
import { checkStreamStore, judgeAck } from './check.js';
import { StreamLedger, type CommitSpec } from './model.js';
import type { StreamWriterPlan } from './writer.js';

/** What children/streamWriter.ts runs (argv[2], as JSON). */
export interface StreamWriterConfig {
  dir: string;
  seed: number;
  durability: Durability;
  groupCommit: boolean | GroupCommitOptions;
  maxSegmentBytes: number;
  checkpointEvery: number;
  plan: StreamWriterPlan;
}

const CYCLE_TIMEOUT_MS = 60_000;

/**
 * An event store on real files, written by a stream writer process that is
 * SIGKILLed at a random moment (or stopped by SIGTERM, then it closes); the
 * parent reopens the store and checks the stream invariants after each
 * cycle. Attempts whose outcome the killed writer never printed are retried
 * by the next cycle's writer with the same ids.
 */
export async function runProcessStreamSession(index: number, rng: Rng, env: SessionEnv): Promise<void> {
  const { figures } = env;
  const replay = replayOf(env, index);
  figures.count('session.process-streams');
  const base = join(env.workDir, `s${index}-streams`);
  mkdirSync(base, { recursive: true });
  const dir = join(base, 'store');
  const violation = (m: string): void => figures.violation('crash', replay, m);
  const common = {
    dir,
    durability: rng.pick(['immediate', 'none'] as const),
    groupCommit: rng.pick([false, true, { maxBatchRecords: rng.int(1, 64), maxDelayMs: rng.int(0, 3) }]),
    maxSegmentBytes: rng.int(4 * 1024, 256 * 1024),
    checkpointEvery: rng.int(1, 500),
  };
  const ledger = new StreamLedger();
  try {
    const cycles = rng.int(3, 10);
    for (let cycle = 0; cycle < cycles; cycle++) {
      if (cycle > 0 && env.timeUp()) break;
      const crng = rng.fork(`cycle${cycle}`);
      const where = `session ${index} cycle ${cycle}`;
      const crossCycle = new Set(ledger.pending.keys());
      const plan: StreamWriterPlan = {
        prefix: `c${cycle}`,
        tasks: crng.int(1, 6),
        streamsPerTask: crng.int(1, 4),
        commitsPerTask: crng.int(20, 2000),
        maxPad: crng.pick([0, 30, 500]),
        retries: [...ledger.pending.values()],
      };
      const cfg: StreamWriterConfig = { ...common, seed: crng.int(0, 2 ** 31), plan };
      const specs = new Map<string, CommitSpec>(plan.retries.map((s) => [s.tag, s]));
      const v = (m: string): void => violation(`${where}: ${m}`);
      let done = false;
      const child = new Child('streamWriter.ts', cfg, (line) => {
        const sp = line.indexOf(' ');
        const tag = sp < 0 ? line : line.slice(0, sp);
        const rest = sp < 0 ? '' : line.slice(sp + 1);
        const f = rest.split(' ');
        if (tag === 'p') {
          const spec = JSON.parse(rest) as CommitSpec;
          specs.set(spec.tag, spec);
          ledger.attempt(spec);
        } else if (tag === 'k') {
          const spec = specs.get(f[0]!);
          if (!spec) return v(`an acknowledgement of an attempt never announced: ${line}`);
          const result = { nextExpectedVersion: Number(f[1]), globalPosition: 0, createdStream: f[4] === '1', ...(f[2] === '1' ? { alreadyAppended: true as const } : {}) };
          // every resolved commit survives a SIGKILL (it is in the kernel's page cache); power loss is the sim's part
          judgeAck(ledger, figures, spec, result, f[3] === '1', crossCycle.has(spec.tag), true, v);
        } else if (tag === 'f') {
          figures.count(f[2] === '1' ? 'streams.retryConflicts' : 'streams.conflicts');
          if (crossCycle.has(f[0]!) && ledger.present.has(f[0]!)) v(`retry of ${f[0]}, which the log holds, was refused as a conflict`);
          ledger.settled(f[0]!);
        } else if (tag === 'x') {
          v(`a commit was rejected with ${f[1]} on a healthy disk`);
        } else if (tag === 'w') {
          v(rest);
        } else if (tag === 'done') {
          done = true;
        }
      });
      try {
        await child.waitFor((l) => l === 'ready', CYCLE_TIMEOUT_MS);
      } catch (err) {
        child.kill();
        await child.exited;
        v(`the stream writer failed to open the store the check had just reopened: ${describeError(err).slice(0, 500)}`);
        return;
      }
      // a random moment: mostly while commits are in flight, sometimes after the writers are done
      const deadline = performance.now() + crng.int(20, 1500);
      while (child.running && !done && performance.now() < deadline) await sleep(10);
      const term = crng.chance(0.15);
      child.kill(term ? 'SIGTERM' : 'SIGKILL');
      const exit = await child.exit(CYCLE_TIMEOUT_MS);
      if (exit.hung) v('the stream writer did not exit after SIGTERM (killed)');
      if (term && !exit.hung && exit.code !== 0) v(`the stream writer exited with ${exit.code ?? exit.signal} after SIGTERM: ${child.stderr.slice(-500)}`);
      if (!child.running && exit.signal === null && !term) v(`the stream writer exited by itself (${exit.code}): ${child.stderr.slice(-500)}`);
      figures.count(term ? 'crash.stream writer closed by SIGTERM' : 'crash.stream writer SIGKILL');
      let store: LocalEventStore | undefined;
      try {
        store = await openEventStore({ ...common });
        figures.count('check.total');
        await checkStreamStore({ store, dir, io: undefined, ledger, figures, powerLoss: false, where, violation });
      } catch (err) {
        v(`reopen and check of the store failed: ${describeError(err)}`);
        return;
      } finally {
        await store?.close().catch(() => undefined);
      }
    }
  } catch (err) {
    figures.violation('harness', replay, `session ${index} (process-streams) aborted: ${describeError(err)}`);
  } finally {
    if (!env.keep) rmSync(base, { recursive: true, force: true });
  }
}
