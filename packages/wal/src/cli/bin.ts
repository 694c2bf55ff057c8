import { once } from 'node:events';
import { runCli } from './main.js';
import { StdoutClosedError } from './output.js';

/**
 * How much output may wait in the stdout stream before a dump pauses. Not
 * the stream's 16 KiB high-water mark: every pause restarts a segment scan,
 * which rereads a 4 MiB window, so pausing that often would cost more reads
 * than the output itself.
 */
const STDOUT_PAUSE_BYTES = 4 * 1024 * 1024;

// `episteme-wal dump ... | head` closes the pipe early: that is a normal end,
// not a crash worth a stack trace. The command stops at its next output and
// closes what it opened on the way out (runCli exits 0 on StdoutClosedError).
let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutClosed = true;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (s) => {
    if (stdoutClosed) throw new StdoutClosedError();
    process.stdout.write(s);
    // Pipes are asynchronous on POSIX: without waiting, a dump to a slow
    // reader would queue the whole log in memory.
    return process.stdout.writableLength >= STDOUT_PAUSE_BYTES ? once(process.stdout, 'drain').then(() => undefined) : undefined;
  },
  stderr: (s) => void process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
  stdin: process.stdin,
});
