/**
 * Child process: an app that opens the journal and starts the `tally`
 * projection at the given version (a new version forces a rebuild from 0),
 * printing `progress <done>` while rebuilding and `ready <mode> <checkpoint>`
 * when started.
 * argv: <dir> <version> [pause]
 * With `pause`, it blocks for a few seconds after its first progress line
 * past 0, so that a parent killing it on that line kills a rebuild in
 * progress however loaded the machine is (not one that finished meanwhile).
 */
import { Journal } from '@episteme/wal';
import { ConsumerRegistry } from '@episteme/consumers';
import { ProjectionEngine } from '../../src/index.js';
import { tally } from '../tally.js';
import { writeLineSync } from '@episteme/wal/testing';

const [dir, version, pause] = process.argv.slice(2);
let paused = false;
const journal = await Journal.open({ dir: dir! });
const registry = ConsumerRegistry.forJournal(journal, { autoCleanup: false, logger: { warn: () => undefined } });
const engine = ProjectionEngine.forJournal(journal, {
  registry,
  batchSize: 16,
  logger: { warn: () => undefined },
  onProgress: (p) => {
    writeLineSync(`progress ${p.done}`);
    if (pause === 'pause' && !paused && p.done > 0 && p.done < p.total) {
      paused = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
    }
  },
});
engine.register(tally(Number(version)));
const [report] = await engine.start({ follow: false });
writeLineSync(`ready ${report!.mode} ${report!.checkpoint}`);
await engine.stop();
await journal.close();
