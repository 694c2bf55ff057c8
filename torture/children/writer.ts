/**
 * Torture writer process: the one writer of a journal directory, with
 * concurrent appender tasks, the consumer registry (cursor-driven cleanup)
 * and the tally projection following the head. Prints:
 *   ready <head> <earliest>            journal open, registry checked
 *   a <offset> <payload> <i|n>         an append resolved (acknowledged), with its durability
 *   x <code> <payload>                 an append was rejected
 *   clamp <name> <reason> <from> <to>  the registry clamped a cursor on open
 *   del <count>                        cleanup deleted segments
 *   proj <mode> <reason>               projection start
 *   pfail <code> <message>             the projection stopped
 *   e <where> <code> <message>         any other error
 *   tick                               every 100 ms, when the event loop gets to run timers
 *   closed                             after SIGTERM: everything closed cleanly
 */
import { ConsumerRegistry } from '@episteme/consumers';
import { ProjectionEngine } from '@episteme/projections';
import { Journal, type Durability } from '@episteme/wal';
import type { WriterConfig } from '../lib/childConfig.js';
import { makePayload } from '../lib/payload.js';
import { tallyProjection, TALLY_NAME } from '../lib/projection.js';
import { Rng } from '../lib/rng.js';
import { codeOf, configFromArgv, describe, oneLine, out, sleep, watchParent } from './common.js';

watchParent();
const cfg = configFromArgv<WriterConfig>();
const rng = new Rng(cfg.seed);

const journal = await Journal.open({
  dir: cfg.dir,
  durability: cfg.durability,
  groupCommit: cfg.groupCommit,
  maxSegmentBytes: cfg.maxSegmentBytes,
  preallocateBytes: cfg.preallocateBytes,
});
const registry = new ConsumerRegistry(journal, { logger: { warn: (m) => out(`warn ${oneLine(m)}`) } });
for (const e of registry.clamped) out(`clamp ${e.name} ${e.reason} ${e.storedCursor} ${e.clampedTo}`);
const deleteBelow = journal.deleteBelow.bind(journal);
journal.deleteBelow = (offset: number): string[] => {
  const deleted = deleteBelow(offset);
  if (deleted.length > 0) out(`del ${deleted.length}`);
  return deleted;
};

let stopping = false;
let engine: ProjectionEngine | undefined;
if (cfg.projection) {
  engine = new ProjectionEngine({
    journal,
    registry,
    snapshotEveryEvents: cfg.projection.snapshotEveryEvents,
    snapshotEveryMs: cfg.projection.snapshotEveryMs,
    batchSize: cfg.projection.batchSize,
    logger: { warn: (m) => out(`warn ${oneLine(m)}`), info: () => undefined },
  });
  engine.register(tallyProjection);
  const [report] = await engine.start({ follow: true });
  out(`proj ${report?.mode} ${report?.mode === 'rebuilt' ? report.reason : '-'}`);
  if (report?.mode === 'failed') out(`pfail ${codeOf(report.error)} ${oneLine(report.detail ?? '')}`);
  let reported = false;
  setInterval(() => {
    const info = engine!.list().find((p) => p.name === TALLY_NAME);
    if (!reported && info?.status === 'failed') {
      reported = true;
      out(`pfail - ${oneLine(info.error ?? '')}`);
    }
  }, 100).unref();
}
out(`ready ${journal.head} ${journal.earliest}`);

const other = (d: Durability): Durability => (d === 'immediate' ? 'none' : 'immediate');
let failed = false;

async function appender(task: number): Promise<void> {
  const r = rng.fork(task);
  for (let i = 0; !stopping && !failed; i++) {
    const count = r.chance(cfg.batchShare) ? r.int(1, 8) : 1;
    const payloads: string[] = [];
    for (let k = 0; k < count; k++) payloads.push(makePayload({ s: cfg.session, c: cfg.cycle, w: task, i: i * 8 + k }, r.int(0, cfg.payloadPad)));
    const durability = r.chance(cfg.overrideShare) ? other(cfg.durability) : cfg.durability;
    const options = { durability };
    const bufs = payloads.map((p) => Buffer.from(p));
    try {
      const offsets = count > 1 || r.chance(0.3) ? (await journal.appendBatch(bufs, options)).map((a) => a.offset) : [(await journal.append(bufs[0]!, options)).offset];
      offsets.forEach((o, k) => out(`a ${o} ${payloads[k]} ${durability === 'immediate' ? 'i' : 'n'}`));
    } catch (err) {
      const code = codeOf(err);
      for (const p of payloads) out(`x ${code} ${p}`);
      if (code === 'WAL_FAILED_STATE') failed = true;
      else if (code !== 'WAL_WRITE_FAILED') out(`e append ${code} ${describe(err)}`);
      await sleep(r.int(1, 30)); // a full disk: back off a little
    }
    if (cfg.appendPauseMs > 0) await sleep(r.int(0, cfg.appendPauseMs));
    else if (cfg.yieldEvery > 0 && i % cfg.yieldEvery === 0) await new Promise((res) => setImmediate(res));
  }
}

if (cfg.syncEveryMs > 0) {
  setInterval(() => {
    journal.sync().catch((err: unknown) => {
      if (!stopping) out(`e sync ${codeOf(err)} ${describe(err)}`);
    });
  }, cfg.syncEveryMs).unref();
}
if (cfg.cleanupEveryMs > 0) {
  setInterval(() => {
    try {
      registry.cleanup();
    } catch (err) {
      out(`e cleanup ${codeOf(err)} ${describe(err)}`);
    }
  }, cfg.cleanupEveryMs).unref();
}

setInterval(() => out('tick'), 100).unref();
const tasks = Array.from({ length: cfg.appenders }, (_, t) => appender(t));

process.on('SIGTERM', () => {
  stopping = true;
  void (async () => {
    await Promise.all(tasks);
    try {
      await engine?.stop();
    } catch (err) {
      out(`e engine-stop ${codeOf(err)} ${describe(err)}`);
    }
    try {
      await journal.close();
      out('closed');
    } catch (err) {
      out(`e close ${codeOf(err)} ${describe(err)}`);
    }
    process.exit(0);
  })();
});

// keep running until killed
setInterval(() => undefined, 1 << 30);
