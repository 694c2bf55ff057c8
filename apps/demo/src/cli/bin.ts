// reflect-metadata must load before tsyringe's decorators run: here, once, at the entry point.
import 'reflect-metadata';
import { once } from 'node:events';
import { StdoutClosedError } from '@episteme/wal/cli';
import { runCli } from './main.js';

/** Output that may wait in the stdout stream before a long listing (`wal dump`) pauses. */
const STDOUT_PAUSE_BYTES = 4 * 1024 * 1024;

// `episteme wal dump | head`, `episteme beliefs x | head -1`: a reader that
// closes the pipe early is a normal end, not a crash worth a stack trace. The
// command stops at its next output and closes the app (the journal, the
// lock, snapshots) on the way out; runCli exits 0 on StdoutClosedError.
let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutClosed = true;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (s) => {
    if (stdoutClosed) throw new StdoutClosedError();
    process.stdout.write(s);
    // pipes are asynchronous on POSIX: without waiting, a dump to a slow reader would queue the whole log in memory
    return process.stdout.writableLength >= STDOUT_PAUSE_BYTES ? once(process.stdout, 'drain').then(() => undefined) : undefined;
  },
  stderr: (s) => void process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
});
