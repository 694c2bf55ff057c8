import { REPAIR_COMMAND } from '../errors.js';
import { oneLine } from './output.js';

/** How a program reports a failure: its words for what failed and for the repair, and what the --json document holds. */
export interface ErrorReport {
  /** `episteme-wal dump`, `episteme assert`: how the user called what failed. */
  prefix: string;
  /** The repair of a damaged journal as typed through this program (`episteme wal recover --repair`). */
  repair: string;
  /** On stderr after the message, not in the JSON document: `(see ... --help)`. */
  hint?: string;
  code: string;
  /** Fields of the JSON document after the message. */
  details?: Record<string, unknown>;
  json: boolean;
  debug: boolean;
}

/**
 * One line on stderr, for the operator; with --json also one JSON document
 * on stdout, for a script: every failure, bad input included, so a script
 * can always parse stdout and branch on `error.code`. Stack traces only with
 * --debug: an operator needs the message, a bug report needs the stack.
 */
export async function reportError(err: unknown, io: { out(s: string): void | Promise<void>; err(s: string): void }, how: ErrorReport): Promise<void> {
  const message = oneLine(err instanceof Error ? err.message : String(err)).replace(REPAIR_COMMAND, how.repair);
  // stderr first: stdout may be the closed pipe that ended the command
  io.err(`${how.prefix}: ${message}${how.hint ?? ''}\n`);
  try {
    if (how.json) await io.out(JSON.stringify({ error: { code: how.code, message, ...how.details } }) + '\n');
  } catch {
    // stdout is gone (closed pipe): the exit code and stderr still tell the story
  }
  if (how.debug && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
}
