/**
 * Child process: a read-only journal that follows a writer in another
 * process and prints `rec <offset> <payload>` for each record, exiting once
 * it has seen `count` records.
 * argv: <dir> <count>
 */
import { Journal } from '../../src/index.js';
import { writeLineSync } from '../../src/testing/lineOut.js';

const [dir, count] = process.argv.slice(2);
const journal = await Journal.openForRead({ dir: dir!, pollIntervalMs: 50 });
writeLineSync('ready');
const ac = new AbortController();
let seen = 0;
for await (const rec of journal.readFrom(journal.earliest, { follow: true, signal: ac.signal })) {
  writeLineSync(`rec ${rec.offset} ${Buffer.from(rec.payload).toString()}`);
  if (++seen === Number(count)) ac.abort();
}
await journal.close();
