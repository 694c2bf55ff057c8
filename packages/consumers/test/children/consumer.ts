/**
 * Child process for the at-least-once test: runs consumer "worker" over the
 * journal and prints `h <offset> <next>` before the handler returns (stdout to
 * a pipe is synchronous on Linux), then `idle` once it reached the head.
 * argv: <dir> <commitEveryRecords>
 */
import { Journal } from '@episteme/wal';
import { ConsumerRegistry, runConsumer } from '../../src/index.js';

const [dir, every] = process.argv.slice(2);
const journal = await Journal.open({ dir: dir! });
const registry = new ConsumerRegistry(journal, { logger: { warn: (m) => process.stderr.write(m + '\n') } });
registry.register('worker');
process.stdout.write(`start ${registry.get('worker').cursor}\n`);
let n = 0;
await runConsumer(registry, 'worker', {
  handler: async (rec) => {
    if (++n % 37 === 0) await new Promise((r) => setTimeout(r, 1));
    process.stdout.write(`h ${rec.offset} ${rec.next}\n`);
  },
  commitEveryRecords: Number(every),
  stopAtHead: true,
});
process.stdout.write('idle\n');
await journal.close();
