import type { Writable } from 'node:stream';
import { StdoutClosedError } from './output.js';
import { hasErrno } from '../shared/errno.js';

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
 *   crash worth a stack trace: the write or the wait for 'drain' that meets
 *   the EPIPE throws StdoutClosedError, and so does every later write, so
 *   the command stops there and closes what it opened (journal, lock,
 *   snapshots) on the way out, and runCli exits 0.
 *
 * Any EPIPE becomes StdoutClosedError, however it arrives: as the stream's
 * 'error' event (a write the kernel refused, reported a tick later, often
 * while the command waits for 'drain') or thrown by write() itself. Other
 * errors are not a reader going away and keep their own error: a waiting
 * command gets it (one error line, exit 1); with nobody to hand it to it is
 * rethrown from the event, as an uncaught error, rather than lost.
 *
 * `stdout` is a parameter for tests only.
 */
export function processStdout(stdout: Writable = process.stdout): (s: string) => void | Promise<void> {
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  stdout.on('error', (err: Error) => {
    failure ??= isBrokenPipe(err) ? new StdoutClosedError() : err;
    if (wake) wake();
    else if (!(failure instanceof StdoutClosedError)) throw err;
  });
  const check = (): void => {
    if (failure) throw failure;
    // destroyed without an error: nothing written from now on would arrive
    if (stdout.destroyed) throw new StdoutClosedError();
  };
  return (s) => {
    check();
    try {
      stdout.write(s);
    } catch (err) {
      throw isBrokenPipe(err) ? new StdoutClosedError() : err;
    }
    if (stdout.writableLength < STDOUT_PAUSE_BYTES) return undefined;
    // not events.once(stdout, 'drain'): it rejects with the raw EPIPE, and
    // never settles if the stream closes without an error
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        wake = undefined;
        stdout.off('drain', settle);
        stdout.off('close', settle);
        try {
          check();
          resolve();
        } catch (err) {
          reject(err as Error);
        }
      };
      wake = settle;
      stdout.on('drain', settle);
      stdout.on('close', settle);
    });
  };
}

function isBrokenPipe(err: unknown): boolean {
  return hasErrno(err, 'EPIPE');
}
