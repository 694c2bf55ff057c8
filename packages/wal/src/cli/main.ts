import { exitCodeOfCategory, isEpistemeError, isWalError, QuarantineError, REPAIR_COMMAND } from '../errors.js';
import { parseArgs, UsageError } from './args.js';
import { CliError, ExitCode, type CliContext, type Command } from './command.js';
import { findCommand } from './commands/index.js';
import { processInterrupts } from './interrupts.js';
import { oneLine, StdoutClosedError } from './output.js';
import { commandUsage, mainUsage, PROGRAM } from './usage.js';
import { versionDetails, WAL_VERSION } from './version.js';

export interface CliIO {
  /** A returned promise means "wait before writing more" (stdout backpressure). */
  stdout: (s: string) => void | Promise<void>;
  stderr: (s: string) => void;
  stderrIsTTY: boolean;
  /** Clock in milliseconds for progress redraws; tests pass a fake one. */
  now?: () => number;
  /** Standard input, for commands that read it (`append`). */
  stdin?: AsyncIterable<Uint8Array | string>;
  /** How a command hears Ctrl-C (see CliContext.onInterrupt); default: the process's SIGINT and SIGTERM. */
  onInterrupt?: (stop: () => void) => () => void;
  /** How the user called this tool, for error lines and usage (default `episteme-wal`; the app's `episteme wal`). */
  program?: string;
  /** The journal directory, when the caller supplies it (the app's `<data>/journal`): usage leaves `<dir>` out. */
  suppliedDir?: string;
}

/**
 * Runs one command line and returns the exit code. Never throws and never
 * exits the process, so tests drive it in-process and bin.ts stays trivial.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const { args, help, debug, version } = splitGlobalFlags(argv);
  const ctx: CliContext = {
    out: io.stdout,
    err: io.stderr,
    stderrIsTTY: io.stderrIsTTY,
    now: io.now ?? (() => performance.now()),
    stdin: io.stdin,
    onInterrupt: io.onInterrupt ?? processInterrupts,
  };
  let command: Command | undefined;
  // from the words, not the parsed flags: a usage error is reported in JSON
  // too, and it is found before (or instead of) the parse
  const json = args.slice(0, args.includes('--') ? args.indexOf('--') : args.length).includes('--json');
  try {
    if (version) {
      await ctx.out(`${PROGRAM} ${WAL_VERSION} (${versionDetails()})\n`);
      return ExitCode.Ok;
    }
    const [name, ...rest] = args;
    if (name === undefined) {
      if (!help) throw new UsageError('missing command');
      await ctx.out(mainUsage());
      return ExitCode.Ok;
    }
    if (name === 'help') return await helpCommand(rest, ctx, io);
    if (name.startsWith('-')) throw new UsageError(`unknown flag ${name}`);
    command = findCommand(name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    if (help) {
      await ctx.out(commandUsage(command, { program: io.program, suppliedDir: io.suppliedDir }));
      return ExitCode.Ok;
    }
    return await command.run(parseArgs(rest, command), ctx);
  } catch (err) {
    if (err instanceof StdoutClosedError) return ExitCode.Ok; // `| head`: a normal end
    return await reportError(err, ctx, command, json, debug, io.program ?? PROGRAM, io.suppliedDir);
  }
}

/** `--help`/`-h`, `--version` and `--debug` are accepted anywhere before `--`, as users type them. */
function splitGlobalFlags(argv: readonly string[]): { args: string[]; help: boolean; debug: boolean; version: boolean } {
  const args: string[] = [];
  let help = false;
  let debug = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--debug') debug = true;
    else if (arg === '--version') version = true;
    else args.push(arg);
  }
  return { args, help, debug, version };
}

async function helpCommand(rest: string[], ctx: CliContext, io: CliIO): Promise<number> {
  if (rest.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(rest[1])}`);
  if (rest[0] === undefined) {
    await ctx.out(mainUsage());
    return ExitCode.Ok;
  }
  const command = findCommand(rest[0]);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(rest[0])}`);
  await ctx.out(commandUsage(command, { program: io.program, suppliedDir: io.suppliedDir }));
  return ExitCode.Ok;
}

function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof CliError) return err.exitCode;
  // by category: bad input and a missing journal exit 2 (nothing changed), the rest 1
  if (isEpistemeError(err)) return exitCodeOfCategory(err.category);
  return ExitCode.Problem;
}

/**
 * One line on stderr, for the operator; with --json also one JSON document
 * on stdout, for a script: every failure, bad input included, so a script
 * can always parse stdout and branch on `error.code` (the `episteme` CLI
 * does the same). Stack traces only with --debug: an operator needs the
 * message, a bug report needs the stack.
 */
async function reportError(err: unknown, ctx: CliContext, command: Command | undefined, json: boolean, debug: boolean, program: string, suppliedDir?: string): Promise<number> {
  const code = exitCodeOf(err);
  // the repair advice in what the user types here: under another name, and without <dir> when the caller supplies it
  const repair = program === PROGRAM ? REPAIR_COMMAND : `${program} recover --repair${suppliedDir === undefined ? ' <dir>' : ''}`;
  const message = oneLine(err instanceof Error ? err.message : String(err)).replace(REPAIR_COMMAND, repair);
  const prefix = command ? `${program} ${command.name}` : program;
  let hint = '';
  if (err instanceof UsageError) hint = ` (see \`${prefix} --help\`)`;
  else if (!isWalError(err) && !(err instanceof CliError) && !debug) hint = ' (run with --debug for the stack trace)';
  ctx.err(`${prefix}: ${message}${hint}\n`);
  try {
    if (json) await ctx.out(JSON.stringify({ error: errorJson(err, message) }) + '\n');
  } catch {
    // stdout is gone (closed pipe): the exit code and stderr still tell the story
  }
  if (debug && err instanceof Error && err.stack) ctx.err(`${err.stack}\n`);
  return code;
}

function errorJson(err: unknown, message: string): Record<string, unknown> {
  const code = (err as { code?: unknown } | null)?.code;
  const out: Record<string, unknown> = { code: typeof code === 'string' ? code : 'CLI_INTERNAL', message };
  if (err instanceof QuarantineError) {
    Object.assign(out, { segment: err.segment, position: err.position, offset: err.offset, reason: err.reason });
  }
  return out;
}
