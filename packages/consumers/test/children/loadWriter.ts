/**
 * Child process for the backup-under-load test: a writer with group commit
 * and 64 appenders, each printing `a <offset> <payload>` once its append
 * resolved (stdout to a pipe is synchronous on Linux: a line the parent
 * read is an acknowledged record), and a consumer "follower" committing its
 * cursor as it follows the head; cleanup deletes what it passed.
 * argv: <dir>
 */
import { Journal } from '@episteme/wal';
import { writeLineSync } from '@episteme/wal/testing';
import { ConsumerRegistry, runConsumer } from '../../src/index.js';

const [dir] = process.argv.slice(2);
const journal = await Journal.open({ dir: dir!, groupCommit: true, maxSegmentBytes: 32 * 1024 });
const registry = ConsumerRegistry.forJournal(journal, { logger: { warn: (m) => process.stderr.write(m + '\n') } });
registry.register('follower');
writeLineSync(`ready ${journal.head}`);
void runConsumer(registry, 'follower', {
  // slow enough to lag the writer a little: its cursor then names older records
  handler: async (rec) => {
    if (rec.offset % 7 === 0) await new Promise((r) => setImmediate(r));
  },
  commitEveryRecords: 40,
}).catch((err: unknown) => {
  process.stderr.write(`consumer stopped: ${String(err)}\n`);
  process.exit(3);
});
const pad = 'x'.repeat(120);
await Promise.all(
  Array.from({ length: 64 }, async (_, w) => {
    for (let seq = 0; ; seq++) {
      const payload = `${w}:${seq}:${pad}`;
      const a = await journal.append(Buffer.from(payload));
      writeLineSync(`a ${a.offset} ${payload.slice(0, payload.length - pad.length - 1)}`);
    }
  }),
);
