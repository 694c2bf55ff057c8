/**
 * Child process for the at-least-once test: runs consumer "worker" over the
 * journal and prints `h <offset> <next>` before the handler returns (stdout to
 * a pipe is synchronous on Linux), then `idle` once it reached the head.
 * argv: <dir> <commitEveryRecords>
 */
import { Journal } from '@episteme/wal';
import { ConsumerRegistry, runConsumer } from '../../src/index.js';
import { writeLineSync } from '@episteme/wal/testing';

const [dir, every] = process.argv.slice(2);
const journal = await Journal.open({ dir: dir! });
const registry = ConsumerRegistry.forJournal(journal, { logger: { warn: (m) => process.stderr.write(m + '\n') } });
registry.register('worker');
writeLineSync(`start ${registry.get('worker').cursor}`);
let n = 0;
await runConsumer(registry, 'worker', {
  handler: async (rec) => {
    if (++n % 37 === 0) await new Promise((r) => setTimeout(r, 1));
    writeLineSync(`h ${rec.offset} ${rec.next}`);
  },
  commitEveryRecords: Number(every),
  stopAtHead: true,
});
writeLineSync('idle');
await journal.close();
