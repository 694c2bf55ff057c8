import { exitCodeOfCategory, isEpistemeError, isWalError, QuarantineError, REPAIR_COMMAND } from '../errors.js';
import { codeOf } from '../shared/errno.js';
import { flagTyped, parseArgs, splitGlobalFlags, UsageError, type FlagSpecs } from './args.js';
import { CliError, ExitCode, findCommand, type CliContext, type Command } from './command.js';
import { commands } from './commands/index.js';
import { processInterrupts } from './interrupts.js';
import { StdoutClosedError } from './output.js';
import { reportError } from './report.js';
import { columns, commandRows, commandUsage, flagRows } from './usage.js';
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
  /** How a command loads an optional module (`dump --events`: the store's formatter); default: `import()`. */
  importModule?: (specifier: string) => Promise<unknown>;
}

export const PROGRAM = 'episteme-wal';

/** Accepted anywhere before `--`, as users type them. */
const GLOBAL_FLAGS = {
  help: { type: 'boolean', short: 'h', description: `show help (also: ${PROGRAM} help <command>)` },
  debug: { type: 'boolean', description: 'show stack traces of errors' },
  version: { type: 'boolean', description: 'show the version (and the journal format it writes)' },
  json: { type: 'boolean', description: 'print JSON for programs (before or after the command)' },
} as const satisfies FlagSpecs;

/**
 * Runs one command line and returns the exit code. Never throws and never
 * exits the process, so tests drive it in-process and bin.ts stays trivial.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const ctx: CliContext = {
    out: io.stdout,
    err: io.stderr,
    stderrIsTTY: io.stderrIsTTY,
    now: io.now ?? (() => performance.now()),
    stdin: io.stdin,
    onInterrupt: io.onInterrupt ?? processInterrupts,
    ...(io.importModule ? { importModule: io.importModule } : {}),
  };
  const how = { program: io.program ?? PROGRAM, suppliedDir: io.suppliedDir };
  let command: Command | undefined;
  // from the words, not the parsed flags: a usage error is reported in JSON
  // too, and it is found before (or instead of) the parse
  const json = flagTyped(argv, 'json');
  let debug = flagTyped(argv, 'debug');
  try {
    const { globals, rest } = splitGlobalFlags(argv, GLOBAL_FLAGS);
    const [name, ...args] = rest;
    debug = globals.debug;
    if (globals.version) {
      await ctx.out(`${PROGRAM} ${WAL_VERSION} (${versionDetails()})\n`);
      return ExitCode.Ok;
    }
    // `help [<command>]`, or --help without a command
    if (name === 'help' || name === undefined) {
      if (name === undefined && !globals.help) throw new UsageError('missing command');
      if (args.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(args[1])}`);
      await ctx.out(args[0] === undefined ? mainUsage() : commandUsage(known(args[0]), how));
      return ExitCode.Ok;
    }
    if (name.startsWith('-')) throw new UsageError(`unknown flag ${name}`);
    command = known(name);
    if (globals.help) {
      await ctx.out(commandUsage(command, how));
      return ExitCode.Ok;
    }
    // --json before the command is the command's own --json (as `episteme --json ...` takes it); a command without one refuses it
    if (globals.json && !args.includes('--json')) {
      if (command.flags.json === undefined) throw new UsageError(`${name} has no --json`);
      args.push('--json');
    }
    return await command.run(parseArgs(args, command), ctx);
  } catch (err) {
    if (err instanceof StdoutClosedError) return ExitCode.Ok; // `| head`: a normal end
    const prefix = command ? `${how.program} ${command.name}` : how.program;
    let hint = '';
    if (err instanceof UsageError) hint = ` (see \`${prefix} --help\`)`;
    else if (!isWalError(err) && !(err instanceof CliError) && !debug) hint = ' (run with --debug for the stack trace)';
    // the repair advice in what the user types here: under another name, and without <dir> when the caller supplies it
    const repair = how.program === PROGRAM ? REPAIR_COMMAND : `${how.program} recover --repair${how.suppliedDir === undefined ? ' <dir>' : ''}`;
    await reportError(err, ctx, { prefix, hint, repair, json, debug, ...errorJson(err) });
    return exitCodeOf(err);
  }
}

function known(name: string): Command {
  const command = findCommand(commands, [name]);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  return command;
}

function mainUsage(): string {
  return [
    `${PROGRAM}: inspect, verify and recover an Episteme write-ahead log directory`,
    '',
    `Usage: ${PROGRAM} <command> <dir> [flags]`,
    '',
    'Commands:',
    ...columns(commandRows(commands)),
    '',
    'Global flags:',
    ...columns(flagRows(GLOBAL_FLAGS)),
    '',
    'Exit codes: 0 ok; 1 problem in the journal (damage found, recovery refused);',
    '            2 usage error or bad input (nothing was changed);',
    '            130 interrupted by Ctrl-C or SIGTERM (append: closed cleanly, says after which line)',
    '',
  ].join('\n');
}

function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof CliError) return err.exitCode;
  // by category: bad input and a missing journal exit 2 (nothing changed), the rest 1
  if (isEpistemeError(err)) return exitCodeOfCategory(err.category);
  return ExitCode.Problem;
}

/** The `code` of the --json error document, and what follows its message. */
function errorJson(err: unknown): { code: string; details?: Record<string, unknown> } {
  const out = { code: codeOf(err) ?? 'CLI_INTERNAL' };
  if (err instanceof QuarantineError) {
    return { ...out, details: { segment: err.segment, position: err.position, offset: err.offset, reason: err.reason } };
  }
  return out;
}
