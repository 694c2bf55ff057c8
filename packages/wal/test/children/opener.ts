/**
 * Child process for lock tests: opens a journal as its writer and prints
 * `opened <head>` (then holds it until killed, with `hold`) or the error
 * code and message of a refused open: `refused <code> <message>`.
 * argv: <dir> [hold]
 */
import { Journal } from '../../src/index.js';
import { writeLineSync } from '../../src/testing/lineOut.js';
import { codeOf } from '../../src/internals.js';

const [dir, hold] = process.argv.slice(2);
try {
  const journal = await Journal.open({ dir: dir! });
  writeLineSync(`opened ${journal.head}`);
  if (hold === 'hold') {
    setInterval(() => undefined, 1 << 30);
  } else {
    await journal.close();
  }
} catch (err) {
  writeLineSync(`refused ${codeOf(err) ?? 'none'} ${(err as Error).message}`);
  process.exitCode = 1;
}
