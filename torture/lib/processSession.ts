import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumerRegistry } from '@episteme/consumers';
import { Journal, nodeFileIO, type JournalOptions } from '@episteme/wal';
import { checkRecovered } from './check.js';
import { Child } from './children.js';
import type { ConsumerConfig, ConsumerMode, ReaderConfig, WriterConfig } from './childConfig.js';
import { capturePre, describeError, digest, equalBytes, type PreState } from './files.js';
import { Ledger } from './ledger.js';
import { TALLY_NAME } from './projection.js';
import type { Rng } from './rng.js';
import { quietLogger, replayOf, sleep, type SessionEnv } from './session.js';
import { Tmpfs } from './tmpfs.js';

const CYCLE_TIMEOUT_MS = 60_000;
/** TORTURE_DEBUG=1 prints the children's lines (all but the per-record ones). */
const DEBUG = process.env.TORTURE_DEBUG === '1';

function debug(who: string, line: string): void {
  if (DEBUG && !/^(a|h|r|rr|c|x) /.test(line)) process.stdout.write(`  [${who}] ${line.slice(0, 300)}\n`);
}

interface SessionPlan {
  index: number;
  kind: 'process' | 'tmpfs';
  dir: string;
  options: JournalOptions & { dir: string };
  projection: boolean;
  consumers: string[];
  readers: number;
  disk: Tmpfs | undefined;
  replay: string;
}

/**
 * One journal directory on real files, driven by real processes: a writer
 * (appenders, registry, projection, cleanup), read-only readers and
 * consumers, SIGKILLed at random moments. Each cycle ends with the writer
 * killed (or closed by SIGTERM); the parent then reopens the directory as
 * the writer and checks every invariant. With `tmpfs`, the directory lives on
 * a small real tmpfs that fills up.
 */
export async function runProcessSession(index: number, rng: Rng, env: SessionEnv, tmpfs?: { mountDir: string }): Promise<void> {
  const { figures } = env;
  const kind = tmpfs ? 'tmpfs' : 'process';
  let disk: Tmpfs | undefined;
  let base = join(env.workDir, `s${index}-${kind}`);
  if (tmpfs) {
    const m = Tmpfs.mount(tmpfs.mountDir, rng.int(1, 3) * 1024 * 1024);
    if (typeof m === 'string') {
      figures.note(`tmpfs sessions skipped: ${m}`);
      return;
    }
    disk = m;
    base = m.path;
  }
  figures.count(`session.${kind}`);
  mkdirSync(base, { recursive: true });
  const dir = join(base, 'journal');
  const groupCommit = rng.pick([false, true, { maxBatchRecords: rng.int(1, 64), maxDelayMs: rng.int(0, 3) }]);
  const plan: SessionPlan = {
    index,
    kind,
    dir,
    options: {
      dir,
      durability: rng.pick(['immediate', 'none'] as const),
      groupCommit,
      maxSegmentBytes: tmpfs ? rng.int(16 * 1024, 160 * 1024) : rng.int(1024, 32 * 1024),
      preallocateBytes: rng.chance(0.4) ? 0 : rng.int(256, tmpfs ? 64 * 1024 : 16 * 1024),
    },
    projection: rng.chance(0.75),
    consumers: Array.from({ length: rng.int(1, 3) }, (_, i) => `c${i}`),
    readers: tmpfs ? rng.int(0, 1) : rng.int(0, 2),
    disk,
    replay: replayOf(env, index),
  };
  const ledger = new Ledger();
  try {
    // consumers are registered before anything is written: they hold the whole log
    const journal = await Journal.open(plan.options);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quietLogger });
    for (const name of plan.consumers) ledger.cursorAck(name, registry.register(name, { startFrom: 'earliest' }).cursor);
    await journal.close();
    const cycles = rng.int(2, 8);
    for (let cycle = 0; cycle < cycles; cycle++) {
      if (cycle > 0 && env.timeUp()) break;
      if (!(await runCycle(plan, cycle, rng.fork(`cycle${cycle}`), ledger, env))) break;
    }
  } catch (err) {
    figures.violation('harness', plan.replay, `session ${index} (${kind}) aborted: ${describeError(err)}`);
  } finally {
    if (disk) disk.unmount();
    else if (!env.keep) rmSync(base, { recursive: true, force: true });
  }
}

async function runCycle(plan: SessionPlan, cycle: number, rng: Rng, ledger: Ledger, env: SessionEnv): Promise<boolean> {
  const { figures } = env;
  const v = (m: string): void => figures.violation('crash', plan.replay, `session ${plan.index} cycle ${cycle}: ${m}`);
  const onDisk = plan.disk !== undefined;
  if (plan.disk) {
    // shrink the disk to what is used plus a little: the writer will fill it
    plan.disk.resize(plan.disk.used() + rng.int(32, 768) * 1024);
  }
  let writeRolledBack = false;
  const writerCfg: WriterConfig = {
    dir: plan.dir,
    seed: rng.int(0, 2 ** 31),
    session: plan.index,
    cycle,
    durability: plan.options.durability!,
    groupCommit: plan.options.groupCommit!,
    maxSegmentBytes: plan.options.maxSegmentBytes!,
    preallocateBytes: plan.options.preallocateBytes!,
    appenders: rng.int(1, 8),
    payloadPad: onDisk ? rng.int(200, 3000) : rng.int(0, 300),
    batchShare: rng.pick([0, 0.2, 0.6]),
    overrideShare: rng.pick([0, 0.1, 0.4]),
    appendPauseMs: rng.pick([0, 0, 2, 10]),
    yieldEvery: rng.chance(0.25) ? 0 : rng.int(1, 64),
    syncEveryMs: rng.pick([0, 20, 100]),
    cleanupEveryMs: rng.pick([0, 30, 200]),
    projection: plan.projection ? { snapshotEveryEvents: rng.int(5, 500), snapshotEveryMs: rng.int(10, 300), batchSize: rng.int(1, 512) } : null,
  };
  debug('plan', `writer ${JSON.stringify(writerCfg)}`);
  let lastTick = performance.now();
  let longestStall = 0;
  const writer = new Child('writer.ts', writerCfg, (line) => {
    debug(`writer s${plan.index}c${cycle}`, line);
    const [tag, a, b, c] = splitLine(line);
    switch (tag) {
      case 'tick':
        lastTick = performance.now();
        break;
      case 'a': {
        longestStall = Math.max(longestStall, performance.now() - lastTick);
        const offset = Number(a);
        const seen = ledger.readerSeen.get(offset);
        if (seen !== undefined && seen !== digest(b!)) {
          if (onDisk && writeRolledBack) figures.finding('crash', plan.replay, 'a reader in another process read a record that a failed write then rolled back; a different record was acknowledged at that offset');
          else v(`a reader saw other bytes at ${offset} than the append acknowledged there`);
        }
        ledger.ack(offset, b!, true);
        figures.count('records.acked');
        if (c === 'i') figures.count('records.ackedDurable');
        break;
      }
      case 'x':
        ledger.reject(b!, a);
        if (onDisk && a === 'WAL_WRITE_FAILED') {
          writeRolledBack = true;
          figures.count('fault.ENOSPC (real tmpfs, appends refused)');
        } else v(`append rejected with ${a} although no fault was injected`);
        break;
      case 'clamp':
        v(`the writer's registry clamped a cursor on a journal the check had just recovered: ${line}`);
        break;
      case 'del':
        figures.count('cleanup.segmentsDeleted', Number(a));
        break;
      case 'pfail':
        if (onDisk) figures.finding('crash', plan.replay, `projection stopped on a full disk and stays stopped until restart (it holds cleanup meanwhile): ${line.slice(6, 200)}`);
        else v(`the projection stopped: ${line}`);
        break;
      case 'e':
        if (onDisk && /ENOSPC/.test(line)) figures.count('tmpfs.otherWritesRefusedENOSPC');
        else v(`writer error: ${line}`);
        break;
      case 'warn':
        figures.count('observe.registryWarnings');
        break;
    }
  });
  try {
    await writer.waitFor((l) => l.startsWith('ready'), CYCLE_TIMEOUT_MS);
  } catch (err) {
    writer.kill();
    await writer.exited;
    if (onDisk) figures.finding('crash', plan.replay, `writer could not start on a nearly full disk: ${describeError(err).slice(0, 300)}`);
    else v(`the writer failed to open the journal the check had just recovered: ${describeError(err).slice(0, 500)}`);
    return onDisk && (await checkCycle(plan, cycle, ledger, env, writeRolledBack));
  }

  const consumers = new Map<string, Child>();
  const spawnConsumer = (name: string): void => {
    const mode: ConsumerMode = rng.pick(['runner', 'batch', 'manual']);
    const cfg: ConsumerConfig = {
      dir: plan.dir,
      seed: rng.int(0, 2 ** 31),
      name,
      mode,
      commitEveryRecords: rng.int(1, 100),
      commitEveryMs: rng.int(20, 500),
      batchSize: rng.int(1, 256),
      pollIntervalMs: rng.int(10, 100),
      slowEvery: rng.chance(0.3) ? rng.int(5, 50) : 0,
    };
    let expect: number | undefined;
    let start = 0;
    const child = new Child('consumer.ts', cfg, (line) => {
      debug(`${name} ${mode}`, line);
      const [tag, a, b] = splitLine(line);
      if (tag === 'start') {
        start = Number(a);
        const acked = ledger.cursorAcks.get(name) ?? 0;
        if (start < acked) v(`consumer ${name} restarted at ${start}, behind its acknowledged commit ${acked}`);
        const handled = ledger.handledUpTo.get(name);
        if (handled !== undefined && start > handled) v(`consumer ${name} restarted at ${start}, past records never handled (up to ${handled})`);
        expect = start;
      } else if (tag === 'h') {
        if (Number(a) !== expect) v(`consumer ${name} (${mode}) got the record at ${a}, expected ${expect}: a gap or reordering`);
        expect = Number(b);
        ledger.handled(name, Number(b));
        figures.count('consumer.recordsHandled');
      } else if (tag === 'c') {
        const cursor = Number(a);
        const handled = Math.max(ledger.handledUpTo.get(name) ?? 0, start);
        if (cursor > handled) v(`consumer ${name} committed ${cursor}, past records its handler never finished (${handled})`);
        ledger.cursorAck(name, cursor);
        figures.count('consumer.cursorCommits');
      } else if (tag === 'fail' || tag === 'e') {
        if (onDisk && /ENOSPC/.test(line)) figures.count('tmpfs.cursorCommitsRefusedENOSPC');
        else if (onDisk && writeRolledBack) {
          figures.finding(
            'crash',
            plan.replay,
            `a consumer in another process stopped on the full disk, after a write there failed and was rolled back: ${line.slice(0, 160).replace(/\d+/g, 'N')} ` +
              '(read-only processes stop at the published head, so a rollback alone cannot reach them: look for a race with the writer)',
          );
        } else v(`consumer ${name} (${mode}) stopped: ${line}`);
      }
    });
    consumers.set(name, child);
  };

  const readers: Child[] = [];
  // On a disk that fills up, a write can be cut short and rolled back after a
  // reader in another process already read the records it held: reported as
  // a finding (readers are not told about rollbacks), not a crash invariant.
  const readerProblem = (m: string): void => {
    if (onDisk && writeRolledBack) figures.finding('crash', plan.replay, `cross-process reader after a rolled-back write on a full disk: ${m.replace(/\d+/g, 'N')}`);
    else v(m);
  };
  const spawnReader = (): Child => {
    const cfg: ReaderConfig = { dir: plan.dir, seed: rng.int(0, 2 ** 31), pollIntervalMs: rng.int(10, 100), randomReads: rng.chance(0.5) };
    let expect: number | undefined;
    const child = new Child('reader.ts', cfg, (line) => {
      debug('reader', line);
      const [tag, a, b, c] = splitLine(line);
      if (tag === 'r' || tag === 'rr') {
        const offset = Number(a);
        if (tag === 'r') {
          if (expect !== undefined && offset !== expect) readerProblem(`a reader read ${offset} after a record ending at ${expect}`);
          expect = Number(b);
          figures.count('reader.recordsRead');
        }
        const known = ledger.records.get(offset);
        if (known && digest(known.payload) !== c) readerProblem(`a reader read other bytes at ${offset} than the acknowledged record`);
        const before = ledger.readerSeen.get(offset);
        if (before !== undefined && before !== c) readerProblem(`a reader read two different records at ${offset}`);
        ledger.readerSeen.set(offset, c!);
      } else if (tag === 'gap') {
        expect = Number(a);
        figures.count('reader.resumedAboveCleanup');
      } else if (tag === 'e') {
        readerProblem(`a reader failed: ${line}`);
      } else if (tag === 'diag') {
        // the numbers a finding's message leaves out (so that equal findings count as one)
        console.error(`[${plan.replay}] reader ${line}`);
      }
    });
    readers.push(child);
    return child;
  };

  const present = plan.consumers.filter(() => !rng.chance(onDisk ? 0.25 : 0.1)); // absent ones lag and hold the log
  for (const name of present) spawnConsumer(name);
  for (let i = 0; i < plan.readers; i++) spawnReader();

  // the cycle: random SIGKILLs of readers and consumers, then the writer
  const cycleMs = rng.int(500, onDisk ? 5000 : 3500);
  const events = Array.from({ length: rng.int(0, 3) }, () => rng.int(0, cycleMs)).sort((x, y) => x - y);
  let t = 0;
  for (const at of events) {
    await sleep(at - t);
    t = at;
    const targets = [...consumers.entries()].filter(([, c]) => c.running);
    const readerTargets = readers.filter((r) => r.running);
    if (targets.length + readerTargets.length === 0) continue;
    const pickConsumer = readerTargets.length === 0 || (targets.length > 0 && rng.chance(0.6));
    if (pickConsumer) {
      const [name, child] = rng.pick(targets);
      child.kill('SIGKILL');
      await child.exited;
      figures.count('crash.consumer SIGKILL (restarted)');
      await sleep(rng.int(0, 200));
      spawnConsumer(name);
    } else {
      const child = rng.pick(readerTargets);
      child.kill('SIGKILL');
      await child.exited;
      figures.count('crash.reader SIGKILL (restarted)');
      spawnReader();
    }
  }
  await sleep(Math.max(0, cycleMs - t));

  const others = (): Child[] => [...consumers.values(), ...readers];
  if (longestStall > 3000) {
    figures.finding(
      'crash',
      plan.replay,
      `event loop starved by appends: a writer whose tasks await appends in a loop ran no timer for ${(longestStall / 1000).toFixed(0)} s while appending ` +
        `(durability ${writerCfg.durability}, group commit ${JSON.stringify(writerCfg.groupCommit)}): appends that wait on no I/O (none, or immediate without group commit, synced on the calling thread) ` +
        'resolve through microtasks only, so sync timers, runConsumer\'s commit timer, the projection\'s follow loop (setImmediate) and SIGTERM handlers do not run',
      'event loop starved by appends',
    );
  }
  // a writer that never yields cannot handle SIGTERM while it appends (the finding above): end it with SIGKILL
  const end = writerCfg.yieldEvery === 0 && writerCfg.appendPauseMs === 0 ? rng.pick(['kill', 'all']) : rng.weighted({ kill: 6, all: 2, term: 2 });
  debug('plan', `end of cycle: ${end}`);
  if (end === 'term') {
    const closed = writer.waitFor((l) => l === 'closed', 30_000).then(
      () => true,
      () => false,
    );
    writer.kill('SIGTERM');
    const exit = await writer.exit(30_000);
    if (exit.hung) v('the writer did not finish a clean close within 30 s of SIGTERM');
    else if (!(await closed)) {
      if (onDisk) figures.count('tmpfs.cleanCloseFailed');
      else v('the writer exited after SIGTERM without closing cleanly');
    }
    figures.count('crash.writer closed cleanly (SIGTERM)');
  } else {
    writer.kill('SIGKILL');
    if (end === 'kill') {
      await writer.exited;
      await sleep(rng.int(0, 150));
    }
    figures.count('crash.writer SIGKILL');
  }
  for (const c of others()) {
    if (c.running) figures.count(`crash.${c.script.replace('.ts', '')} SIGKILL (end of cycle)`);
    c.kill('SIGKILL');
  }
  await Promise.all([writer.exited, ...others().map((c) => c.exited)]);
  return checkCycle(plan, cycle, ledger, env, writeRolledBack);
}

/** Reopens the directory as the writer and checks everything. On a full disk, recovery may first be refused. */
async function checkCycle(plan: SessionPlan, cycle: number, ledger: Ledger, env: SessionEnv, writeRolledBack: boolean): Promise<boolean> {
  const { figures } = env;
  const v = (m: string): void => figures.violation('crash', plan.replay, `session ${plan.index} cycle ${cycle}: ${m}`);
  let pre = capturePre(nodeFileIO, plan.dir, 'last', TALLY_NAME);
  let journal: Journal;
  try {
    journal = await Journal.open(plan.options);
  } catch (err) {
    if (!plan.disk || !/ENOSPC/.test(describeError(err) + String((err as { cause?: unknown }).cause))) {
      v(`reopening after the crash failed: ${describeError(err)}`);
      return false;
    }
    // recovery needs room for the quarantine copy: refused on a full disk, and it must not have cut anything
    figures.count('tmpfs.recoveryRefusedOnFullDisk (typed error, nothing cut)');
    const after = capturePre(nodeFileIO, plan.dir, 'last', TALLY_NAME);
    compareUntouched(pre, after, v, (m) => figures.finding('crash', plan.replay, m));
    pre = after;
    plan.disk.resize(plan.disk.used() + 4 * 1024 * 1024);
    try {
      journal = await Journal.open(plan.options);
    } catch (err2) {
      v(`reopening failed even with free space: ${describeError(err2)}`);
      return false;
    }
  }
  // the checks themselves write (snapshot, cursors): give them room
  plan.disk?.resize(plan.disk.used() + 4 * 1024 * 1024);
  const result = await checkRecovered({
    io: nodeFileIO,
    dir: plan.dir,
    journal,
    pre,
    ledger,
    figures,
    replay: plan.replay,
    session: plan.index,
    powerLoss: false,
    readerSeen: !writeRolledBack,
    projection: plan.projection,
  });
  await journal.close();
  return !result.projectionDead;
}

function compareUntouched(before: PreState, after: PreState, v: (m: string) => void, finding: (m: string) => void): void {
  for (const [name, seg] of before.segments) {
    const now = after.segments.get(name);
    if (!now || now.size !== seg.size || (seg.bytes && now.bytes && !equalBytes(seg.bytes, now.bytes))) {
      v(`a recovery refused for lack of space changed segment ${name}`);
    }
  }
  for (const name of after.quarantine.keys()) {
    if (!before.quarantine.has(name)) finding(`a recovery refused for lack of space left a partial quarantine file behind (${name}); it matches no reported cut`);
  }
}

function splitLine(line: string): string[] {
  return line.split(' ');
}
