import { ExitCode } from './command.js';

/**
 * SIGINT and SIGTERM call `stop` (the command ends cleanly and says how far
 * it got); a second one ends the process at once, as the default would, for
 * an operator who will not wait. The `episteme` app's long commands use it too.
 */
export function processInterrupts(stop: () => void): () => void {
  let heard = 0;
  const handler = (signal: NodeJS.Signals): void => {
    if (++heard > 1) process.exit(signal === 'SIGINT' ? ExitCode.Interrupted : 128 + 15);
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
