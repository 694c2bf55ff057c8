/**
 * Child process for the commit-in-flight kill test: a fast synchronous
 * handler (the catch-up the runner overlaps its commits with) that prints
 * `h <next>` before it returns, every record (stdout to a pipe is
 * synchronous on Linux), and `c <cursor>` from onCommit, once the runner
 * reports a commit durable; `start <cursor>` first and `idle` at the head.
 * argv: <dir> <commitEveryRecords>
 */
import { Journal } from '@episteme/wal';
import { ConsumerRegistry, runConsumer } from '../../src/index.js';
import { writeLineSync } from '@episteme/wal/testing';

const [dir, every] = process.argv.slice(2);
const journal = await Journal.open({ dir: dir! });
const registry = ConsumerRegistry.forJournal(journal, { logger: { warn: (m) => process.stderr.write(m + '\n') } });
if (!registry.has('fast')) registry.register('fast');
writeLineSync(`start ${registry.get('fast').cursor}`);
const result = await runConsumer(registry, 'fast', {
  handler: (rec) => writeLineSync(`h ${rec.next}`),
  onCommit: (cursor) => writeLineSync(`c ${cursor}`),
  commitEveryRecords: Number(every),
  stopAtHead: true,
});
writeLineSync(`idle ${result.state} ${result.cursor}`);
await journal.close();
