import { runCli } from './main.js';
import { processStdout } from './processStdout.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: processStdout(),
  stderr: (s) => void process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
  stdin: process.stdin,
});
