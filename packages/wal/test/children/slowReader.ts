/**
 * Child process: a read-only journal that reads slowly from offset 0 and
 * reports how reading ends when the writer deletes the segment under it.
 * Prints `read <offset>` per record, then `done` or `error <code> <message>`.
 */
import { Journal, isWalError } from '../../src/index.js';

const journal = await Journal.open({ dir: process.argv[2]!, readOnly: true });
let pos = journal.earliest;
try {
  for (;;) {
    const rec = journal.read(pos);
    if (!rec) break;
    process.stdout.write(`read ${rec.offset}\n`);
    pos = rec.next;
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write('done\n');
} catch (err) {
  process.stdout.write(`error ${isWalError(err) ? err.code : 'UNTYPED'} ${String((err as Error).message)}\n`);
}
await journal.close();
