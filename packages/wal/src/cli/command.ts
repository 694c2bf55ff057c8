import type { FlagSpecs, ParsedArgs, PositionalSpec } from './args.js';

/** Exit codes are part of the CLI contract (README.md): scripts branch on them. */
export const ExitCode = {
  Ok: 0,
  /** A problem in the journal: damage found, recovery refused. */
  Problem: 1,
  /** Usage error or bad input; nothing was changed. */
  Usage: 2,
  /** Stopped by Ctrl-C or SIGTERM after a clean close, having said how far it got (128 + SIGINT, as shells report it). */
  Interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What a command may touch of the outside world: injected so tests run in-process. */
export interface CliContext {
  /** Writes to stdout; a returned promise means "wait before writing more" (backpressure). */
  out(s: string): void | Promise<void>;
  err(s: string): void;
  stderrIsTTY: boolean;
  now(): number;
  stdin?: AsyncIterable<Uint8Array | string>;
  /**
   * For a command that can stop cleanly (`append`): `stop` runs on Ctrl-C or
   * SIGTERM instead of the process ending at once; returns the function that
   * removes it. Commands that do not ask keep the default (the process ends;
   * the journal is crash-safe).
   */
  onInterrupt(stop: () => void): () => void;
  /** Loads a module by name (`dump --events` loads the store's formatter); default: `import()`. Tests pass a failing one. */
  importModule?: (specifier: string) => Promise<unknown>;
}

/**
 * A command of either CLI: episteme-wal's, which get a CliContext, and the
 * app's, which get the app's context (`Ctx`).
 */
export interface Command<F extends FlagSpecs = FlagSpecs, Ctx = CliContext> {
  /** The words that select it: `dump`, or `consumers list` for one of a group. */
  name: string;
  /** One line for the command list. */
  summary: string;
  positionals: readonly PositionalSpec[];
  flags: F;
  run(args: ParsedArgs<F>, ctx: Ctx): Promise<number>;
}

/** Identity function that lets TypeScript infer the flag types of a command. */
export function defineCommand<F extends FlagSpecs>(command: Command<F>): Command<F> {
  return command;
}

/** The command whose words start `words` (the rest are its arguments). */
export function findCommand<C extends Pick<Command, 'name'>>(commands: readonly C[], words: readonly string[]): C | undefined {
  return commands.find((c) => c.name.split(' ').every((w, i) => words[i] === w));
}

/** An expected failure with its own exit code and a one-line message. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
    /** Stable code for `--json` error output, like WalError codes. */
    readonly code = 'CLI_ERROR',
  ) {
    super(message);
  }
}

/** Flags several commands share, defined once so their help text agrees. */
export const commonFlags = {
  json: { type: 'boolean', description: 'print JSON for programs instead of text' },
  maxPayloadBytes: {
    type: 'integer',
    value: 'bytes',
    // the length field is a u32; and a limit of 0 would call every non-empty record damage
    min: 1,
    max: 0xffffffff,
    description: 'largest valid payload; at least the largest record the journal holds (default 16777216)',
  },
} as const;
