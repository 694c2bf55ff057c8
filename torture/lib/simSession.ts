import { ConsumerRegistry, runConsumer } from '@episteme/consumers';
import { FileSnapshotStore, ProjectionEngine } from '@episteme/projections';
import { isEpistemeError, Journal, WalErrorCodes, type Durability, type JournalOptions } from '@episteme/wal';
import { codeOf } from '@episteme/wal/internals';
import { SimulatedDisk, type Fault } from '@episteme/wal/testing';
import { checkRecovered } from './check.js';
import { capturePre, describeError } from './files.js';
import { Ledger } from './ledger.js';
import { makePayload } from './payload.js';
import { tallyProjection, TALLY_NAME } from './projection.js';
import type { Rng } from './rng.js';
import { HangError, quietLogger, replayOf, withTimeout, type SessionEnv } from './session.js';

const SETTLE_MS = 15_000;

interface FaultPlan {
  write: number;
  fsync: number;
  meta: number;
  read: number;
}

/**
 * One journal on a SimulatedDisk, everything in this process: appenders
 * with both durability levels, consumers (runner and manual commits), the
 * projection, cleanup, injected ENOSPC/EIO/short writes/failed fsyncs, a
 * capacity limit, and a power loss at a random disk operation that drops the
 * unsynced writes or keeps a random prefix of them (directory entries too).
 * Timers are set far out so that a session replays from its seed.
 */
export async function runSimSession(index: number, rng: Rng, env: SessionEnv): Promise<void> {
  const { figures } = env;
  const replay = replayOf(env, index);
  figures.count('session.sim');
  const diskRng = rng.fork('disk');
  const disk = new SimulatedDisk(() => diskRng.next());
  const dir = `/sim/torture-${process.pid}-${index}/journal`;
  const groupCommit = rng.pick([false, true, { maxBatchRecords: rng.int(1, 32) }]);
  const options: JournalOptions & { dir: string } = {
    dir,
    io: disk,
    durability: rng.pick(['immediate', 'none'] as const),
    groupCommit,
    maxSegmentBytes: rng.int(300, 6000),
    preallocateBytes: rng.chance(0.5) ? 0 : rng.int(64, 2048),
    // background syncs of none appends, every few records (segments are small here)
    writebackBytes: rng.chance(0.3) ? 0 : rng.int(100, 4000),
  };
  const projection = rng.chance(0.8);
  const names = Array.from({ length: rng.int(1, 3) }, (_, i) => `c${i}`);
  const ledger = new Ledger();
  let journal: Journal | undefined;
  try {
    journal = await Journal.open(options);
    let registry = ConsumerRegistry.forJournal(journal, { io: disk, logger: quietLogger });
    for (const name of names) ledger.cursorAck(name, registry.register(name, { startFrom: 'earliest' }).cursor);
    const cycles = rng.int(3, 14);
    for (let cycle = 0; cycle < cycles; cycle++) {
      if (cycle > 0 && env.timeUp()) break;
      const crng = rng.fork(`cycle${cycle}`);
      const outcome = await runCycle({ journal, registry, disk, options, rng: crng, ledger, env, index, cycle, projection, names, replay });
      journal = undefined;
      if (outcome === 'broken') return;
      disk.inject = undefined;
      disk.capacityBytes = Number.POSITIVE_INFINITY;
      const powerLoss = outcome === 'power-loss' || crng.chance(0.5);
      if (powerLoss) {
        const keepPrefix = crng.chance(0.5);
        // reordered: each write of the kept prefix landed or not (page writeback order is not write order)
        const reorder = keepPrefix && crng.chance(0.5);
        disk.powerLoss({ keepPrefix, reorder });
        figures.count(`powerloss.${reorder ? 'random prefix of unsynced writes, each landed or not' : keepPrefix ? 'random prefix of unsynced writes kept' : 'unsynced writes dropped'}${outcome === 'power-loss' ? '' : ` (after ${outcome === 'closed' ? 'a clean close' : 'a failed fsync'})`}`);
      } else figures.count(`crash.reopen without power loss after ${outcome === 'closed' ? 'a clean close' : 'a failed fsync'}`);
      const pre = capturePre(disk, dir, 'all', TALLY_NAME);
      try {
        journal = await Journal.open(options);
      } catch (err) {
        figures.violation('crash', replay, `session ${index} cycle ${cycle}: recovery failed after a ${powerLoss ? 'power loss' : 'failed fsync'}: ${describeError(err)}`);
        return;
      }
      const result = await checkRecovered({ io: disk, dir, journal, pre, ledger, figures, replay, session: index, powerLoss, readerSeen: false, projection });
      registry = result.registry;
      if (result.projectionDead) break;
    }
  } catch (err) {
    figures.violation('harness', replay, `session ${index} (sim) aborted: ${describeError(err)}`);
  } finally {
    disk.inject = undefined;
    await journal?.close().catch(() => undefined);
  }
}

interface CycleArgs {
  journal: Journal;
  registry: ConsumerRegistry;
  disk: SimulatedDisk;
  options: JournalOptions & { dir: string };
  rng: Rng;
  ledger: Ledger;
  env: SessionEnv;
  index: number;
  cycle: number;
  projection: boolean;
  names: string[];
  replay: string;
}

type Outcome = 'power-loss' | 'failed-state' | 'closed' | 'broken';

async function runCycle(a: CycleArgs): Promise<Outcome> {
  const { journal, registry, disk, rng, ledger, env, index, cycle } = a;
  const { figures } = env;
  const v = (m: string): void => figures.violation('crash', a.replay, `session ${index} cycle ${cycle}: ${m}`);

  // acknowledged cursor writes, observed at the store (durable once write returns)
  const store = registry.store;
  const write = store.write.bind(store);
  store.write = (state) => {
    write(state);
    ledger.cursorAck(state.name, state.cursor);
  };
  const deleteBelow = journal.deleteBelow.bind(journal);
  journal.deleteBelow = (offset: number): string[] => {
    const deleted = deleteBelow(offset);
    figures.count('cleanup.segmentsDeleted', deleted.length);
    return deleted;
  };

  let engine: ProjectionEngine | undefined;
  if (a.projection) {
    engine = ProjectionEngine.forJournal(journal, {
      registry,
      store: new FileSnapshotStore(a.options.dir, disk),
      snapshotEveryEvents: rng.int(2, 80),
      snapshotEveryMs: 600_000,
      batchSize: rng.int(1, 64),
      logger: quietLogger,
    });
    engine.register(tallyProjection);
    const [report] = await engine.start({ follow: true });
    if (report?.mode === 'failed') v(`the projection failed to start before any fault: ${report.detail}`);
  }

  // faults from here on, then a power loss at a random disk operation
  const faults: FaultPlan = rng.pick([
    { write: 0, fsync: 0, meta: 0, read: 0 },
    { write: rng.next() * 0.08, fsync: 0, meta: 0, read: 0 },
    { write: rng.next() * 0.05, fsync: rng.next() * 0.02, meta: rng.next() * 0.02, read: rng.next() * 0.005 },
  ]);
  if (rng.chance(0.25)) disk.capacityBytes = disk.usedBytes() + rng.int(500, 20_000);
  const frng = rng.fork('faults');
  const freezeAt = rng.int(20, 4000);
  let ops = 0;
  let frozen = false;
  const enospcBefore = disk.faults.ENOSPC ?? 0;
  let injectedEnospc = 0;
  disk.inject = ({ op, length }): Fault | undefined => {
    if (++ops >= freezeAt && !frozen) {
      frozen = true;
      disk.freeze();
      return undefined;
    }
    const r = frng.next();
    if (op === 'write' && r < faults.write) {
      const kind = frng.int(0, 2);
      if (kind === 0) {
        injectedEnospc++;
        figures.count('fault.ENOSPC (injected write)');
        return { error: 'ENOSPC' };
      }
      if (kind === 1) {
        figures.count('fault.EIO (injected write)');
        return { error: 'EIO' };
      }
      figures.count('fault.short write');
      return { shortWrite: frng.int(0, Math.max(0, (length ?? 1) - 1)) };
    }
    if (op === 'fsync' && r < faults.fsync) {
      figures.count('fault.failed fsync (EIO)');
      return { error: 'EIO' };
    }
    if ((op === 'rename' || op === 'syncDir' || op === 'unlink' || op === 'open' || op === 'truncate') && r < faults.meta) {
      figures.count(`fault.EIO (${op})`);
      return { error: 'EIO' };
    }
    if (op === 'read' && r < faults.read) {
      figures.count('fault.EIO (read)');
      return { error: 'EIO' };
    }
    return undefined;
  };

  let stop = false;
  let failedState = false;
  const abort = new AbortController();
  const other = (d: Durability): Durability => (d === 'immediate' ? 'none' : 'immediate');
  const base = a.options.durability!;

  const appender = async (task: number): Promise<void> => {
    const r = rng.fork(`appender${task}`);
    const limit = r.int(20, 400);
    for (let i = 0; i < limit && !stop; i++) {
      const count = r.chance(0.25) ? r.int(1, 6) : 1;
      const payloads = Array.from({ length: count }, (_, k) => makePayload({ s: index, c: cycle, w: task, i: i * 8 + k }, r.int(0, 120)));
      const durability = r.chance(0.15) ? other(base) : base;
      try {
        const bufs = payloads.map((p) => Buffer.from(p));
        const offsets = count > 1 ? (await journal.appendBatch(bufs, { durability })).map((a) => a.offset) : [(await journal.append(bufs[0]!, { durability })).offset];
        offsets.forEach((o, k) => ledger.ack(o, payloads[k]!, durability === 'immediate'));
        figures.count('records.acked', count);
        if (durability === 'immediate') figures.count('records.ackedDurable', count);
      } catch (err) {
        const code = codeOf(err);
        for (const p of payloads) ledger.reject(p, code);
        if (code === 'WAL_FAILED_STATE') {
          failedState = true;
          stop = true;
        } else if (code !== 'WAL_WRITE_FAILED' && !frozen) v(`append rejected with ${describeError(err)}`);
        if (frozen) return;
      }
      if (r.chance(0.05)) {
        const covered = ledger.syncStarted();
        try {
          await journal.sync();
          ledger.syncDone(covered);
        } catch (err) {
          ledger.syncFailed(covered);
          if (isEpistemeError(err, WalErrorCodes.FailedState)) {
            failedState = true;
            stop = true;
          }
        }
      }
      if (r.chance(0.05)) {
        try {
          registry.cleanup();
        } catch {
          // a fault in a cursor read: cleanup is retried by the next commit
        }
      }
      if (r.chance(0.2)) await new Promise((res) => setImmediate(res));
    }
  };

  const consumer = async (name: string): Promise<void> => {
    const r = rng.fork(`consumer-${name}`);
    while (!stop) {
      const mode = r.pick(['runner', 'manual'] as const);
      let flaky = r.chance(0.2);
      try {
        if (mode === 'runner') {
          const result = await runConsumer(registry, name, {
            handler: (rec) => {
              if (flaky && r.chance(0.3)) throw new Error('flaky handler');
              ledger.handled(name, rec.next);
            },
            commitEveryRecords: r.int(1, 40),
            commitEveryMs: 600_000,
            batchSize: r.int(1, 64),
            // one attempt: a retry waits on a timer, which would make the session's replay depend on timing
            retry: { maxAttempts: 1 },
            signal: abort.signal,
          });
          if (result.state === 'failed') figures.count('consumer.runsStoppedAsFailed (restarted)');
        } else {
          let cursor = registry.get(name).cursor;
          for (let n = r.int(1, 30); n > 0 && !stop; n--) {
            const batch = journal.readMany(cursor, r.int(1, 32));
            if (batch.length === 0) {
              await journal.waitBeyond(cursor, abort.signal);
              continue;
            }
            for (const rec of batch) ledger.handled(name, rec.next);
            cursor = batch[batch.length - 1]!.next;
            registry.commit(name, cursor);
          }
        }
      } catch (err) {
        const code = codeOf(err) ?? '';
        if (!frozen && !/^(CONSUMER_IO|WAL_IO|WAL_CLOSED)$/.test(code)) v(`consumer ${name} (${mode}): ${describeError(err)}`);
      }
      flaky = false;
      await new Promise((res) => setImmediate(res));
    }
  };

  const appenders = Array.from({ length: rng.int(1, 6) }, (_, t) => appender(t));
  const consumers = a.names.filter(() => !rng.chance(0.2)).map((n) => consumer(n));
  const cleanClose = rng.chance(0.15);
  try {
    await withTimeout(Promise.all(appenders), 120_000, 'the appenders');
    stop = true;
    // the appenders are done: the power goes now, unless a failed fsync ended
    // the cycle (reopened with or without a power loss) or it closes cleanly
    if (!frozen && !failedState && !cleanClose) disk.freeze();
    const closing = !frozen && (failedState || cleanClose);
    frozen = frozen || !closing;
    abort.abort();
    await withTimeout(Promise.all(consumers), SETTLE_MS, 'the consumers at the end of a cycle');
    if (engine) await withTimeout(engine.stop().catch(() => undefined), SETTLE_MS, 'engine.stop at the end of a cycle');
    const covered = ledger.syncStarted();
    try {
      await withTimeout(journal.close(), SETTLE_MS, 'journal.close at the end of a cycle');
      // close syncs: every acknowledgement so far is durable
      if (closing && !failedState) ledger.syncDone(covered);
    } catch (err) {
      if (err instanceof HangError) throw err;
      ledger.syncFailed(covered);
    }
    if (closing) disk.inject = undefined;
  } catch (err) {
    if (err instanceof HangError) v(`hang: ${err.message}`);
    else v(`unexpected: ${describeError(err)}`);
    return 'broken';
  }
  figures.count('fault.ENOSPC (simulated disk full)', (disk.faults.ENOSPC ?? 0) - enospcBefore - injectedEnospc);
  if (failedState && ops < freezeAt) return 'failed-state';
  if (cleanClose && ops < freezeAt) return 'closed';
  return 'power-loss';
}
