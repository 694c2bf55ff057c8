import { once } from 'node:events';
import { StdoutClosedError } from './output.js';

/**
 * How much output may wait in the stdout stream before a long listing (a
 * dump) pauses. Not the stream's 16 KiB high-water mark: every pause
 * restarts a segment scan, which rereads a 4 MiB window, so pausing that
 * often would cost more reads than the output itself.
 */
const STDOUT_PAUSE_BYTES = 4 * 1024 * 1024;

/**
 * The process's stdout as a CLI's `stdout` (both bins use it):
 * - backpressure: pipes are asynchronous on POSIX, and without waiting a
 *   dump to a slow reader would queue the whole log in memory;
 * - a reader that closed the pipe early (`| head`) is a normal end, not a
 *   crash worth a stack trace: the next output throws StdoutClosedError, so
 *   the command stops there and closes what it opened (journal, lock,
 *   snapshots) on the way out, and runCli exits 0.
 */
export function processStdout(): (s: string) => void | Promise<void> {
  let closed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    closed = true;
  });
  return (s) => {
    if (closed) throw new StdoutClosedError();
    process.stdout.write(s);
    return process.stdout.writableLength >= STDOUT_PAUSE_BYTES ? once(process.stdout, 'drain').then(() => undefined) : undefined;
  };
}
