import { ConsumerErrorCodes } from '@episteme/consumers';
import { exitCodeOfCategory, isEpistemeError } from '@episteme/wal';
import { columns, commandRows, ExitCode as Exit, findCommand, flagRows, flagTyped, parseArgs, parseNonNegativeInteger, processInterrupts, reportError, runCli as runWalCli, type CliIO as WalCliIO, splitGlobalFlags, StdoutClosedError, UsageError, versionDetails, WAL_VERSION, type FlagSpecs } from '@episteme/wal/cli';
import { codeOf } from '@episteme/wal/internals';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DEFAULT_CONFIG, ENV, resolveConfig } from '../app/config.js';
import { ValidationFailedError } from '../domain/events.js';
import type { AppCommand } from './command.js';
import { commands } from './commands/index.js';
import { openApp, type CommandContext } from './context.js';
import { refuseJournalAsDataDir } from './dataDir.js';
import { NATS_ENV, resolveNatsTarget } from './natsOptions.js';
import { startMetricsServer } from '../app/metricsServer.js';

/** What runCli reads and writes: episteme-wal's (see there), with the environment and a stream as stdin (`import -`). */
export interface CliIO extends Pick<WalCliIO, 'stdout' | 'stderr' | 'stderrIsTTY' | 'onInterrupt'> {
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream;
}

const GLOBAL_FLAGS = {
  data: { type: 'string', value: 'dir', description: `data directory (env ${ENV.dataDir}, default ${DEFAULT_CONFIG.dataDir})` },
  durability: { type: 'string', value: 'immediate|none', description: `append durability (env ${ENV.durability}, default immediate)` },
  'group-commit': { type: 'string', value: 'on|off', description: `group commit of concurrent appends (env ${ENV.groupCommit}, default on)` },
  'segment-bytes': { type: 'string', value: 'bytes', description: `segment size (env ${ENV.maxSegmentBytes}, default 64 MiB)` },
  'max-payload-bytes': { type: 'string', value: 'bytes', description: `largest record (env ${ENV.maxPayloadBytes}, default 16 MiB): a journal with larger ones needs at least their size` },
  'lock-wait': { type: 'string', value: 'ms', description: `how long a command that writes waits for another process's writer lock (env ${ENV.lockWaitMs}, default 5000; 0: refuse at once)` },
  nats: { type: 'string', value: 'url,...', description: `a NATS JetStream cluster (env ${NATS_ENV.servers}; credentials from ${NATS_ENV.user}/${NATS_ENV.pass}, ${NATS_ENV.token}, ${NATS_ENV.nkeySeed}, ${NATS_ENV.creds}, ${NATS_ENV.ca})` },
  'nats-stream': { type: 'string', value: 'name', description: `the JetStream stream (env ${NATS_ENV.stream})` },
  'metrics-port': { type: 'string', value: 'port', description: 'serve the metrics as Prometheus text on http://127.0.0.1:<port>/metrics while the command runs' },
  json: { type: 'boolean', description: 'machine-readable output' },
  debug: { type: 'boolean', description: 'print stack traces of unexpected errors' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  version: { type: 'boolean', description: 'show the versions of the app and of the journal (and its format)' },
} as const satisfies FlagSpecs;

/** The app's version, from its package.json (src/cli and dist/cli both sit two levels below it). */
const APP_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The commands that run on a NATS cluster when --nats (or EPISTEME_NATS) names one. */
const NATS_COMMANDS = new Set(['relay', 'assert', 'retract', 'beliefs', 'stats']);

// not `append`: the app's journal only takes validated events (use assert/import)
const WAL_COMMANDS = ['segments', 'dump', 'verify', 'recover'];

/** Runs one command line; returns the exit code (0 ok, 1 data problem, 2 usage or bad input, 130 interrupted). */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  // from the words until the flags are parsed: their own errors are reported in JSON too
  let json = flagTyped(argv, 'json');
  let debug = flagTyped(argv, 'debug');
  let command: AppCommand | undefined;
  try {
    const { globals, rest } = splitGlobalFlags(argv, GLOBAL_FLAGS);
    ({ json, debug } = globals);
    if (globals.version) {
      await io.stdout(`episteme ${APP_VERSION} (@episteme/wal ${WAL_VERSION}, ${versionDetails()})\n`);
      return Exit.Ok;
    }
    if (rest.length === 0 && !globals.help) {
      // a script asked for JSON: a missing command is an error document like any other, not the usage text
      if (json) throw new UsageError('missing command (episteme --help lists them)');
      await io.stdout(usage());
      return Exit.Usage;
    }
    if (globals.help || rest[0] === 'help') return await help(rest[0] === 'help' ? rest.slice(1) : rest, io);
    const config = resolveConfig(
      { dataDir: globals.data, durability: globals.durability, groupCommit: globals['group-commit'], maxSegmentBytes: globals['segment-bytes'], maxPayloadBytes: globals['max-payload-bytes'], lockWaitMs: globals['lock-wait'] },
      io.env ?? process.env,
    );
    refuseJournalAsDataDir(config.dataDir);
    if (rest[0] === 'wal') {
      const [sub, ...walArgs] = rest.slice(1);
      if (!sub || !WAL_COMMANDS.includes(sub)) throw new UsageError(`wal needs one of: ${WAL_COMMANDS.join(', ')}`);
      // one implementation: @episteme/wal's own CLI, on this app's journal
      const journal = join(config.dataDir, 'journal');
      return await wal([sub, journal, ...walArgs, ...(json ? ['--json'] : []), ...(debug ? ['--debug'] : [])], journal, { ...io, stdin: io.stdin ?? process.stdin });
    }
    command = known(rest);
    // `--nats` typed for a command that works on the journal only would answer from the journal, silently
    if ((globals.nats !== undefined || globals['nats-stream'] !== undefined) && !NATS_COMMANDS.has(command.name)) {
      throw new UsageError(`${command.name} works on the local journal only; --nats is for ${[...NATS_COMMANDS].join(', ')}`);
    }
    const args = parseArgs(rest.slice(command.name.split(' ').length), command);
    const ctx: CommandContext = {
      config,
      json,
      out: io.stdout,
      err: io.stderr,
      stderrIsTTY: io.stderrIsTTY,
      stdin: io.stdin ?? process.stdin,
      open: (mode, options) => openApp(config, mode, io.stderr, options),
      nats: resolveNatsTarget({ nats: globals.nats, stream: globals['nats-stream'] }, io.env ?? process.env),
      onInterrupt: io.onInterrupt ?? processInterrupts,
    };
    // before anything opens: the journal decides at open whether it measures
    const server = globals['metrics-port'] === undefined ? undefined : await startMetricsServer(portOf(globals['metrics-port']));
    if (server) io.stderr(`note: metrics at ${server.url}\n`);
    try {
      return await command.run(args, ctx);
    } finally {
      await server?.close();
    }
  } catch (err) {
    if (err instanceof StdoutClosedError) return Exit.Ok; // `| head`: a normal end, after the command closed what it opened
    await reportError(err, { out: io.stdout, err: io.stderr }, {
      prefix: command ? `episteme ${command.name}` : 'episteme',
      // a damaged journal's repair, as typed through this app (on its own journal)
      repair: 'episteme wal recover --repair',
      json,
      debug,
      code: codeOf(err) ?? 'APP_ERROR',
      ...(err instanceof ValidationFailedError ? { details: { failures: err.failures } } : {}),
    });
    return exitCodeOf(err);
  }
}

/** A TCP port to listen on, 1-65535. */
function portOf(text: string): number {
  const port = parseNonNegativeInteger(text, '--metrics-port');
  if (port < 1 || port > 65535) throw new UsageError(`--metrics-port must be a port from 1 to 65535, got ${port}`);
  return port;
}

/** The command that `words` start with; a usage error naming what is wrong when none. */
function known(words: string[]): AppCommand {
  const found = findCommand(commands, words);
  if (found) return found;
  const [first, second] = words as [string, ...string[]];
  if (first.startsWith('-')) throw new UsageError(`unknown flag ${first} (global flags come before or after the command; episteme --help lists them)`);
  const group = commands.filter((c) => c.name.startsWith(`${first} `));
  if (group.length > 0) {
    const list = `${group.map((c) => c.name.slice(first.length + 1)).join(', ')} (episteme help ${first})`;
    if (second === undefined || second.startsWith('-')) throw new UsageError(`${first} needs one of: ${list}`);
    throw new UsageError(`${first} has no command ${JSON.stringify(second)}; one of: ${list}`);
  }
  throw new UsageError(`unknown command ${JSON.stringify(first)} (episteme --help lists them)`);
}

/** `episteme help consumers`, `episteme assert --help`: the commands named, else all. */
async function help(rest: string[], io: CliIO): Promise<number> {
  const words = rest.filter((w) => !w.startsWith('-'));
  if (words[0] === 'wal' && words[1] === undefined) {
    await io.stdout(walUsage());
    return Exit.Ok;
  }
  if (words[0] === 'wal' && !WAL_COMMANDS.includes(words[1]!)) throw new UsageError(`wal has no command ${JSON.stringify(words[1])}; one of: ${WAL_COMMANDS.join(', ')}`);
  // the app names the journal itself: its usage has no <dir>
  if (words[0] === 'wal') return await wal(['help', words[1]!], `<data>/journal (--data, env ${ENV.dataDir}, default ${DEFAULT_CONFIG.dataDir})`, io);
  await io.stdout(usage(words));
  return Exit.Ok;
}

/** episteme-wal's command line as typed through the app, on the app's journal. */
function wal(argv: string[], journal: string, io: CliIO): Promise<number> {
  return runWalCli(argv, { ...io, program: 'episteme wal', suppliedDir: journal });
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

/** The usage text: of the commands that `words` name (an unknown one is refused), of all without words. */
function usage(words: string[] = []): string {
  // the longest leading words that name commands: `consumers reset indexer --help` is about `consumers reset`
  let named: AppCommand[] = [];
  for (let k = Math.min(words.length, 2); k > 0 && named.length === 0; k--) {
    named = commands.filter((c) => words.slice(0, k).every((w, i) => c.name.split(' ')[i] === w));
  }
  if (words.length > 0 && named.length === 0) throw new UsageError(`unknown command ${JSON.stringify(words[0])} (episteme --help lists them)`);
  const wal: [string, string][] = [['wal segments|dump|verify|recover', 'inspect the journal (same as episteme-wal, on <data>/journal; episteme wal <command> --help)']];
  return [
    'Usage: episteme [global flags] <command> [args]',
    '',
    'Commands:',
    ...columns([...commandRows(named.length > 0 ? named : commands, true), ...(named.length > 0 ? [] : wal)]),
    '',
    'Global flags:',
    ...columns(flagRows(GLOBAL_FLAGS)),
    '',
    'Exit codes: 0 ok, 1 a problem with the data, 2 usage error or bad input (nothing changed), 130 interrupted (import says where to resume; projections rebuild saves nothing)',
    '',
  ].join('\n');
}
