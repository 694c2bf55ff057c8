/**
 * Child process: a read-only journal that reads slowly from offset 0 and
 * reports how reading ends when the writer deletes the segment under it.
 * Prints `read <offset>` per record, then `done` or `error <code> <message>`.
 */
import { Journal, isWalError } from '../../src/index.js';
import { writeLineSync } from '../../src/testing/lineOut.js';

const journal = await Journal.openForRead({ dir: process.argv[2]! });
let pos = journal.earliest;
try {
  for (;;) {
    const rec = journal.read(pos);
    if (!rec) break;
    writeLineSync(`read ${rec.offset}`);
    pos = rec.next;
    await new Promise((r) => setTimeout(r, 20));
  }
  writeLineSync('done');
} catch (err) {
  writeLineSync(`error ${isWalError(err) ? err.code : 'UNTYPED'} ${String((err as Error).message)}`);
}
await journal.close();
