/**
 * Torture stream writer process: opens an event store (`openEventStore`) on
 * its session's directory and runs the stream writers of
 * lib/streams/writer.ts until SIGKILLed or told to stop by SIGTERM. Prints,
 * with a blocking write so a SIGKILL loses no printed line:
 *   ready                                  the store is open (recovery and index load done)
 *   p <spec json>                          a commit attempt is about to be made
 *   k <tag> <next> <already 0|1> <retry 0|1> <created 0|1>   a commit resolved
 *   f <tag> <actual> <retry 0|1>           a typed version conflict (nothing written)
 *   x <tag> <code>                         rejected otherwise (outcome unknown to the writer)
 *   w <message>                            the store did something it must never do
 *   done                                   the writers finished (the parent kills or stops us)
 *   closed                                 after SIGTERM: the store closed cleanly
 */
import { openEventStore } from '@episteme/store';
import type { StreamWriterConfig } from '../lib/streams/processStreams.js';
import { Rng } from '../lib/rng.js';
import { runStreamWriters } from '../lib/streams/writer.js';
import { codeOf, configFromArgv, describe, oneLine, out, watchParent } from './common.js';

watchParent();
const cfg = configFromArgv<StreamWriterConfig>();
const store = await openEventStore({
  dir: cfg.dir,
  durability: cfg.durability,
  groupCommit: cfg.groupCommit,
  maxSegmentBytes: cfg.maxSegmentBytes,
  checkpointEvery: cfg.checkpointEvery,
});
out('ready');
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  void writers
    .then(() => store.close())
    .then(
      () => {
        out('closed');
        process.exit(0);
      },
      (err: unknown) => {
        out(`w close failed: ${codeOf(err)} ${describe(err)}`);
        process.exit(1);
      },
    );
});
const b = (x: boolean | undefined): string => (x ? '1' : '0');
const writers = runStreamWriters(
  store,
  new Rng(cfg.seed),
  cfg.plan,
  {
    attempt: (spec) => out(`p ${JSON.stringify(spec)}`),
    acked: (spec, r, retry) => out(`k ${spec.tag} ${r.nextExpectedVersion} ${b(r.alreadyAppended)} ${b(retry)} ${b(r.createdStream)}`),
    conflict: (spec, actual, retry) => out(`f ${spec.tag} ${actual} ${b(retry)}`),
    failed: (spec, code) => out(`x ${spec.tag} ${code}`),
    wrong: (m) => out(`w ${oneLine(m)}`),
    duplicateOnRetry: (spec, m) => out(`w retry of ${spec.tag} refused: ${oneLine(m)}`),
  },
  () => stopping,
);
await writers;
if (!stopping) {
  out('done');
  // stay up until the parent kills or stops us: an exit now would be a crash the parent did not choose
  setInterval(() => undefined, 1 << 30);
}
