/**
 * Child process for the background tail check: opens a journal as its
 * writer through a FileIO that stops the process (blocks its only thread)
 * when the clean-close check of the last segment reads its second slice,
 * after printing `checking <head>`; with `append`, an append is queued first
 * (it must wait for the check, so it is never written). The parent kills it
 * there (SIGKILL). Without a check to stop in, prints `no-check <head>`.
 * argv: <dir> [append]
 */
import { Journal, nodeFileIO, type FileIO } from '../../src/index.js';
import { TAIL_CHECK_SLICE } from '../../src/journal/tailCheck.js';
import { writeLineSync } from '../../src/testing/lineOut.js';

const [dir, mode] = process.argv.slice(2);
const stop = new Int32Array(new SharedArrayBuffer(4));
let opened = false;
let head = -1;
const checkFds = new Set<number>();
const io: FileIO = {
  ...nodeFileIO,
  open(path, flags) {
    const fd = nodeFileIO.open(path, flags);
    if (opened && flags === 'r' && path.endsWith('.wal')) checkFds.add(fd);
    return fd;
  },
  read(fd, buf, offset, length, position) {
    if (checkFds.has(fd) && position >= TAIL_CHECK_SLICE) {
      writeLineSync(`checking ${head}`);
      Atomics.wait(stop, 0, 0); // forever: the parent kills us here
    }
    return nodeFileIO.read(fd, buf, offset, length, position);
  },
};

const journal = await Journal.open({ dir: dir!, io });
opened = true;
head = journal.head;
if (!journal.recovery.lastSegmentCheckDeferred) {
  writeLineSync(`no-check ${head}`);
  await journal.close();
} else if (mode === 'append') {
  void journal.append(Buffer.from('never written')).then(() => writeLineSync('acknowledged'));
}
