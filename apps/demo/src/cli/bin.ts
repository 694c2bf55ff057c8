// reflect-metadata must load before tsyringe's decorators run: here, once, at the entry point.
import 'reflect-metadata';
import { processStdout } from '@episteme/wal/cli';
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: processStdout(), // backpressure, and `| head` ends the command quietly
  stderr: (s) => void process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
});
