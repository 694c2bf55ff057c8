/**
 * Child process: an app that opens the journal and starts the `tally`
 * projection at the given version (a new version forces a rebuild from 0),
 * printing `progress <done>` while rebuilding and `ready <mode> <checkpoint>`
 * when started.
 * argv: <dir> <version>
 */
import { Journal } from '@episteme/wal';
import { ConsumerRegistry } from '@episteme/consumers';
import { ProjectionEngine } from '../../src/index.js';
import { tally } from '../tally.js';

const [dir, version] = process.argv.slice(2);
const journal = await Journal.open({ dir: dir! });
const registry = new ConsumerRegistry(journal, { autoCleanup: false, logger: { warn: () => undefined } });
const engine = new ProjectionEngine({
  journal,
  registry,
  batchSize: 16,
  logger: { warn: () => undefined },
  onProgress: (p) => process.stdout.write(`progress ${p.done}\n`),
});
engine.register(tally(Number(version)));
const [report] = await engine.start({ follow: false });
process.stdout.write(`ready ${report!.mode} ${report!.checkpoint}\n`);
await engine.stop();
await journal.close();
