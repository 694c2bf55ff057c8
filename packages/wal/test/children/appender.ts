/**
 * Child process for crash tests: appends with `immediate` durability from
 * several concurrent appenders and prints `ack <offset> <payload>` only after
 * each append's promise resolved. stdout to a pipe is synchronous on Linux, so
 * a printed line was acknowledged before any SIGKILL can land.
 * argv: <dir> <appenders> <groupCommit 0|1> <maxSegmentBytes> <tag> [<synced prefix every N bytes>]
 */
import { Journal } from '../../src/index.js';
import { syncedPrefixEvery } from '../../src/journal/journalWriter.js';
import { writeLineSync } from '../../src/testing/lineOut.js';

const [dir, appenders, group, maxSegmentBytes, tag, prefixEvery] = process.argv.slice(2);
if (prefixEvery !== undefined) syncedPrefixEvery.bytes = Number(prefixEvery);
const journal = await Journal.open({
  dir: dir!,
  groupCommit: group === '1',
  maxSegmentBytes: Number(maxSegmentBytes),
});
writeLineSync(`ready ${journal.head} ${journal.recovery?.cuts.length ?? 0}`);
await Promise.all(
  Array.from({ length: Number(appenders) }, async (_, a) => {
    for (let i = 0; ; i++) {
      const payload = `${tag}-${a}-${i}-${'z'.repeat((i * 7 + a) % 90)}`;
      const offset = (await journal.append(Buffer.from(payload))).offset;
      writeLineSync(`ack ${offset} ${payload}`);
    }
  }),
);
