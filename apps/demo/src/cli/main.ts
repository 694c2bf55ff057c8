import { ConsumerErrorCodes } from '@episteme/consumers';
import { exitCodeOfCategory, isEpistemeError, REPAIR_COMMAND } from '@episteme/wal';
import { missingValue, oneLine, parseArgs, processInterrupts, runCli as runWalCli, StdoutClosedError, UsageError, versionDetails, WAL_VERSION, type FlagSpecs } from '@episteme/wal/cli';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DEFAULT_CONFIG, ENV, resolveConfig } from '../app/config.js';
import { ValidationFailedError } from '../domain/events.js';
import { Exit, type AppCommand } from './command.js';
import { commands, findCommand } from './commands/index.js';
import { openApp, type CommandContext } from './context.js';
import { refuseJournalAsDataDir } from './dataDir.js';

export interface CliIO {
  /** May return a promise: the caller waits for it before writing more (backpressure of a long listing). */
  stdout(s: string): void | Promise<void>;
  stderr(s: string): void;
  stderrIsTTY: boolean;
  env?: NodeJS.ProcessEnv;
  /** Standard input (`import -`, default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** How a long command hears Ctrl-C (see CommandContext.onInterrupt); default: the process's SIGINT and SIGTERM. */
  onInterrupt?: (stop: () => void) => () => void;
}

const GLOBAL_FLAGS = {
  data: { type: 'string', value: 'dir', description: `data directory (env ${ENV.dataDir}, default ${DEFAULT_CONFIG.dataDir})` },
  durability: { type: 'string', value: 'immediate|none', description: `append durability (env ${ENV.durability}, default immediate)` },
  'group-commit': { type: 'string', value: 'on|off', description: `group commit of concurrent appends (env ${ENV.groupCommit}, default on)` },
  'segment-bytes': { type: 'string', value: 'bytes', description: `segment size (env ${ENV.maxSegmentBytes}, default 64 MiB)` },
  'max-payload-bytes': { type: 'string', value: 'bytes', description: `largest record (env ${ENV.maxPayloadBytes}, default 16 MiB): a journal with larger ones needs at least their size` },
  json: { type: 'boolean', description: 'machine-readable output' },
  debug: { type: 'boolean', description: 'print stack traces of unexpected errors' },
  help: { type: 'boolean', description: 'show help' },
  version: { type: 'boolean', description: 'show the versions of the app and of the journal (and its format)' },
} as const satisfies FlagSpecs;

/** The app's version, from its package.json (src/cli and dist/cli both sit two levels below it). */
const APP_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

// not `append`: the app's journal only takes validated events (use assert/import)
const WAL_COMMANDS = ['segments', 'dump', 'verify', 'recover'];

/** Runs one command line; returns the exit code (0 ok, 1 data problem, 2 usage or bad input). */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let globals: ReturnType<typeof splitGlobals>['globals'] = { json: argv.includes('--json'), debug: argv.includes('--debug'), help: false, version: false };
  let rest: string[] = [];
  let command: AppCommand | undefined;
  try {
    ({ globals, rest } = splitGlobals(argv));
    if (globals.version) {
      await io.stdout(`episteme ${APP_VERSION} (@episteme/wal ${WAL_VERSION}, ${versionDetails()})\n`);
      return Exit.Ok;
    }
    // a script asked for JSON: a missing command is an error document like any other, not the usage text
    if (rest.length === 0 && !globals.help && globals.json) throw new UsageError('missing command (episteme --help lists them)');
    if (globals.help || rest.length === 0 || rest[0] === 'help') {
      // `episteme help consumers`, `episteme assert --help`: the commands named, else all
      const words = (rest[0] === 'help' ? rest.slice(1) : rest).filter((w) => !w.startsWith('-'));
      if (words[0] === 'wal' && words[1] === undefined) {
        await io.stdout(walUsage());
        return Exit.Ok;
      }
      if (words[0] === 'wal' && !WAL_COMMANDS.includes(words[1]!)) throw new UsageError(`wal has no command ${JSON.stringify(words[1])}; one of: ${WAL_COMMANDS.join(', ')}`);
      if (words[0] === 'wal') {
        // the app names the journal itself: its usage has no <dir>
        const how = { program: 'episteme wal', suppliedDir: `<data>/journal (--data, env ${ENV.dataDir}, default ${DEFAULT_CONFIG.dataDir})` };
        return await runWalCli(['help', words[1]!], { stdout: io.stdout, stderr: io.stderr, stderrIsTTY: io.stderrIsTTY, ...how });
      }
      if (words[0] !== undefined && !commands.some((c) => c.path[0] === words[0])) {
        throw new UsageError(`unknown command ${JSON.stringify(words[0])} (episteme --help lists them)`);
      }
      await io.stdout(usage(words));
      return rest.length === 0 && !globals.help ? Exit.Usage : Exit.Ok;
    }
    const config = resolveConfig(
      { dataDir: globals.data, durability: globals.durability, groupCommit: globals['group-commit'], maxSegmentBytes: globals['segment-bytes'], maxPayloadBytes: globals['max-payload-bytes'] },
      io.env ?? process.env,
    );
    refuseJournalAsDataDir(config.dataDir);
    if (rest[0] === 'wal') {
      const [sub, ...walArgs] = rest.slice(1);
      if (!sub || !WAL_COMMANDS.includes(sub)) throw new UsageError(`wal needs one of: ${WAL_COMMANDS.join(', ')}`);
      // one implementation: @episteme/wal's own CLI, on this app's journal
      return await runWalCli([sub, join(config.dataDir, 'journal'), ...walArgs, ...(globals.json ? ['--json'] : []), ...(globals.debug ? ['--debug'] : [])], {
        stdout: io.stdout,
        stderr: io.stderr,
        stderrIsTTY: io.stderrIsTTY,
        stdin: io.stdin ?? process.stdin,
        program: 'episteme wal',
        suppliedDir: join(config.dataDir, 'journal'),
      });
    }
    const found = findCommand(rest);
    if (!found) {
      if (rest[0]!.startsWith('-')) throw new UsageError(`unknown flag ${rest[0]} (global flags come before or after the command; episteme --help lists them)`);
      const group = commands.filter((c) => c.path.length > 1 && c.path[0] === rest[0]);
      if (group.length > 0) {
        const known = `${group.map((c) => c.path[1]).join(', ')} (episteme help ${rest[0]})`;
        if (rest.length === 1 || rest[1]!.startsWith('-')) throw new UsageError(`${rest[0]} needs one of: ${known}`);
        throw new UsageError(`${rest[0]} has no command ${JSON.stringify(rest[1])}; one of: ${known}`);
      }
      throw new UsageError(`unknown command ${JSON.stringify(rest[0])} (episteme --help lists them)`);
    }
    command = found.command;
    const args = parseArgs(rest.slice(found.used), { positionals: command.positionals, flags: command.flags });
    const ctx: CommandContext = {
      config,
      json: globals.json,
      out: io.stdout,
      err: io.stderr,
      stderrIsTTY: io.stderrIsTTY,
      stdin: io.stdin ?? process.stdin,
      open: (mode, options) => openApp(config, mode, io.stderr, options),
      onInterrupt: io.onInterrupt ?? processInterrupts,
    };
    return await command.run(args, ctx);
  } catch (err) {
    if (err instanceof StdoutClosedError) return Exit.Ok; // `| head`: a normal end, after the command closed what it opened
    const code = exitCodeOf(err);
    // a damaged journal's repair, as typed through this app (on its own journal)
    const message = oneLine(err instanceof Error ? err.message : String(err)).replace(REPAIR_COMMAND, 'episteme wal recover --repair');
    const prefix = command ? `episteme ${command.path.join(' ')}` : 'episteme';
    // stderr first: stdout may be the closed pipe that ended the command
    io.stderr(`${prefix}: ${message}\n`);
    if (globals.json) {
      try {
        await io.stdout(JSON.stringify({ error: { code: (err as { code?: string }).code ?? 'APP_ERROR', message, ...(err instanceof ValidationFailedError ? { failures: err.failures } : {}) } }) + '\n');
      } catch {
        // stdout is gone: the exit code and stderr still tell the story
      }
    }
    if (globals.debug && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
    return code;
  }
}

/** Bad input (exit 2) versus a problem with the data or the machine (exit 1). */
function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return Exit.Usage;
  // a conflict, but the one this CLI has always answered with 2: the operator named a consumer
  // that a live process runs, and stopping it first is all it takes (nothing was changed)
  if (isEpistemeError(err, ConsumerErrorCodes.Running)) return Exit.Usage;
  // the app's ConfigError and ValidationFailedError are invalid input too
  if (isEpistemeError(err)) return exitCodeOfCategory(err.category);
  return Exit.Problem;
}

/** Global flags may stand anywhere; everything else goes to the command. */
function splitGlobals(argv: readonly string[]): { globals: { data?: string; durability?: string; 'group-commit'?: string; 'segment-bytes'?: string; 'max-payload-bytes'?: string; json: boolean; debug: boolean; help: boolean; version: boolean }; rest: string[] } {
  const globals: Record<string, string | boolean | undefined> = { json: false, debug: false, help: false, version: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') ? [arg.slice(2).split('=')[0]!, arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined] : ['', undefined];
    const spec = (GLOBAL_FLAGS as FlagSpecs)[name];
    if (!spec) {
      rest.push(arg === '-h' ? '--help' : arg);
      if (arg === '-h') globals.help = true;
      continue;
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      globals[name] = true;
    } else {
      // a flag at the very end must not silently fall back to the env or the
      // default, and `--data --json` did not name a directory "--json"
      const next = argv[i + 1];
      if (inline === undefined && (next === undefined || next.startsWith('--'))) throw new UsageError(missingValue(name, spec, next));
      // `--data a --data b` must not quietly write to b
      if (globals[name] !== undefined) throw new UsageError(`--${name} given more than once`);
      globals[name] = inline ?? argv[++i];
    }
  }
  if (rest.includes('--help')) globals.help = true;
  return { globals: globals as never, rest: rest.filter((a) => a !== '--help') };
}

/** `episteme wal --help`: the journal commands the app offers (not episteme-wal's whole list: no `append`). */
function walUsage(): string {
  return [
    'Usage: episteme [global flags] wal <command> [flags]',
    '',
    `The journal in <data>/journal (--data, env ${ENV.dataDir}, default ${DEFAULT_CONFIG.dataDir}), inspected with episteme-wal's commands:`,
    `  ${WAL_COMMANDS.join(', ')}`,
    '',
    'episteme wal <command> --help describes one.',
    '',
  ].join('\n');
}

/** The usage text: of the commands whose path starts with `words` when there are some, else of all. */
function usage(words: string[] = []): string {
  // the longest leading words that name commands: `consumers reset indexer --help` is about `consumers reset`
  let named: AppCommand[] = [];
  for (let k = Math.min(words.length, 2); k > 0 && named.length === 0; k--) {
    named = commands.filter((c) => words.slice(0, k).every((w, i) => c.path[i] === w));
  }
  const lines = ['Usage: episteme [global flags] <command> [args]', '', 'Commands:'];
  for (const c of named.length > 0 ? named : commands) {
    const args = c.positionals.map((p) => `<${p.name}>`).join(' ');
    lines.push(`  ${[c.path.join(' '), args].filter(Boolean).join(' ').padEnd(34)} ${c.summary}`);
    for (const [name, f] of Object.entries(c.flags)) lines.push(`      --${name}${f.value ? ` <${f.value}>` : ''}`.padEnd(38) + ` ${f.description}`);
  }
  if (named.length === 0) lines.push(`  ${'wal segments|dump|verify|recover'.padEnd(34)} inspect the journal (same as episteme-wal, on <data>/journal; episteme wal <command> --help)`);
  lines.push('', 'Global flags:');
  for (const [name, f] of Object.entries(GLOBAL_FLAGS)) lines.push(`  --${name}${'value' in f ? ` <${f.value}>` : ''}`.padEnd(38) + ` ${f.description}`);
  lines.push('', 'Exit codes: 0 ok, 1 a problem with the data, 2 usage error or bad input (nothing changed), 130 interrupted (import says where to resume; projections rebuild saves nothing)');
  return lines.join('\n') + '\n';
}
