import { openEventStore, type EventStoreOptions, type LocalEventStore } from '@episteme/store';
import { SimulatedDisk, type Fault } from '@episteme/wal/testing';
import { describeError } from '../files.js';
import type { Rng } from '../rng.js';
import { replayOf, withTimeout, type SessionEnv } from '../session.js';
import { checkStreamStore, judgeAck } from './check.js';
import { StreamLedger } from './model.js';
import { runStreamWriters, type StreamReport } from './writer.js';

const SETTLE_MS = 15_000;
/** TORTURE_DEBUG=1 traces every attempt (replay one session with it). */
const TRACE = process.env.TORTURE_DEBUG === '1';

/**
 * An event store on a SimulatedDisk, in this process: stream writers
 * (multi-event commits with expected versions, idempotent retries), a few
 * injected write faults, then a power loss at a random disk operation
 * (unsynced writes dropped, or a random prefix kept, reordered or not).
 * Cycles are short on purpose: each ends in a power loss (or a clean close
 * followed by one), which is what raises the run's power-loss rate. Timers
 * are set far out, so a session replays from its seed.
 */
export async function runSimStreamSession(index: number, rng: Rng, env: SessionEnv): Promise<void> {
  const { figures } = env;
  const replay = replayOf(env, index);
  figures.count('session.sim-streams');
  const diskRng = rng.fork('disk');
  const disk = new SimulatedDisk(() => diskRng.next());
  const dir = `/sim/torture-${process.pid}-${index}/store`;
  const options: EventStoreOptions = {
    dir,
    io: disk,
    // mostly immediate: 'none' commits may be lost to a power loss (allowed, counted), which weakens the check
    durability: rng.chance(0.75) ? 'immediate' : 'none',
    groupCommit: rng.pick([false, true, { maxBatchRecords: rng.int(1, 32) }]),
    maxSegmentBytes: rng.int(2_000, 64_000),
    preallocateBytes: rng.chance(0.5) ? 0 : rng.int(64, 4096),
    // small: the checkpoint and its stale/damaged paths are exercised every few cycles
    checkpointEvery: rng.int(1, 200),
    idempotencyWindow: rng.chance(0.9) ? 1_000_000 : rng.int(5_000, 50_000),
  };
  const ledger = new StreamLedger();
  const violation = (m: string): void => figures.violation('crash', replay, m);
  let store: LocalEventStore | undefined;
  try {
    store = await openEventStore(options);
    const cycles = rng.int(10, 25);
    for (let cycle = 0; cycle < cycles; cycle++) {
      if (cycle > 0 && env.timeUp()) break;
      const crng = rng.fork(`cycle${cycle}`);
      const where = `session ${index} cycle ${cycle}`;
      const cleanClose = await runCycle(replay, store, disk, crng, ledger, env, index, cycle, options, violation);
      store = undefined;
      disk.inject = undefined;
      const keepPrefix = crng.chance(0.5);
      const reorder = keepPrefix && crng.chance(0.5);
      disk.powerLoss({ keepPrefix, reorder });
      figures.count(`powerloss.stream store: ${reorder ? 'random prefix, each landed or not' : keepPrefix ? 'random prefix of unsynced writes kept' : 'unsynced writes dropped'}${cleanClose ? ' (after a clean close)' : ''}`);
      try {
        store = await openEventStore(options);
      } catch (err) {
        violation(`${where}: the store did not reopen after a power loss: ${describeError(err)}`);
        return;
      }
      figures.count('check.total');
      await checkStreamStore({ store, dir, io: disk, ledger, figures, powerLoss: true, where, violation });
    }
  } catch (err) {
    figures.violation('harness', replay, `session ${index} (sim-streams) aborted: ${describeError(err)}`);
  } finally {
    disk.inject = undefined;
    await store?.close().catch(() => undefined);
  }
}

/** One cycle: writers until the power goes (or they finish; then a clean close now and then). Returns whether it closed cleanly. */
async function runCycle(
  replay: string,
  store: LocalEventStore,
  disk: SimulatedDisk,
  rng: Rng,
  ledger: StreamLedger,
  env: SessionEnv,
  index: number,
  cycle: number,
  options: EventStoreOptions,
  violation: (m: string) => void,
): Promise<boolean> {
  const { figures } = env;
  const where = `session ${index} cycle ${cycle}`;
  const durable = options.durability === 'immediate';
  const faultRate = rng.pick([0, 0, rng.next() * 0.03]);
  const frng = rng.fork('faults');
  const freezeAt = rng.int(10, 1500);
  let ops = 0;
  let frozen = false;
  disk.inject = ({ op, length }): Fault | undefined => {
    if (++ops >= freezeAt && !frozen) {
      frozen = true;
      disk.freeze();
      return undefined;
    }
    if (op === 'write' && frng.next() < faultRate) {
      if (frng.chance(0.5)) {
        figures.count('fault.EIO (stream store write)');
        return { error: 'EIO' };
      }
      figures.count('fault.short write (stream store)');
      return { shortWrite: frng.int(0, Math.max(0, (length ?? 1) - 1)) };
    }
    return undefined;
  };
  const crossCycle = new Set(ledger.pending.keys());
  const report: StreamReport = {
    attempt: (spec, retry) => {
      if (TRACE) process.stdout.write(`  [${where}] attempt ${spec.tag} ${spec.stream} ${spec.count} ${String(spec.expected)}${retry ? ' (retry)' : ''}\n`);
      ledger.attempt(spec);
    },
    acked: (spec, result, retry) => judgeAck(ledger, figures, spec, result, retry, crossCycle.has(spec.tag), durable, (m) => violation(`${where}: ${m}`)),
    conflict: (spec, _actual, retry) => {
      figures.count(retry ? 'streams.retryConflicts' : 'streams.conflicts');
      // a retry whose first attempt recovery kept would have been answered alreadyAppended
      if (crossCycle.has(spec.tag) && ledger.present.has(spec.tag)) violation(`${where}: retry of ${spec.tag}, which the log holds, was refused as a conflict`);
      ledger.settled(spec.tag);
    },
    failed: (spec, code) => {
      if (TRACE) process.stdout.write(`  [${where}] ${spec.tag} rejected ${code}\n`);
      figures.count('streams.rejectedUnknownOutcome');
    },
    wrong: (m) => violation(`${where}: ${m}`),
    // a retry's lookup that cannot read its commit now reports the read error (b8ea3b1): a duplicate id is always wrong
    duplicateOnRetry: (spec, m) => violation(`${where}: retry of ${spec.tag} refused: ${m}`),
  };
  const plan = {
    prefix: `c${cycle}`,
    tasks: rng.int(1, 4),
    streamsPerTask: rng.int(1, 3),
    commitsPerTask: rng.int(5, 60),
    maxPad: rng.pick([0, 20, 200]),
    retries: [...ledger.pending.values()],
  };
  const cleanClose = rng.chance(0.15);
  await withTimeout(
    runStreamWriters(store, rng, plan, report, () => frozen),
    120_000,
    `${where}: the stream writers`,
  );
  // the writers are done: the power goes now, unless this cycle closes cleanly first
  if (!frozen && !cleanClose) disk.freeze();
  const closing = !frozen && cleanClose;
  frozen = true;
  // a clean close is not cut by the power: the loss comes after it
  if (closing) disk.inject = undefined;
  try {
    await withTimeout(store.close(), SETTLE_MS, `${where}: store.close`);
    if (closing) ledger.allDurable();
  } catch {
    // the power is gone: close fails, what was synced is what counts
  }
  return closing;
}
