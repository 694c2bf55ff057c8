import type { FlagSpecs, ParsedArgs, PositionalSpec } from '@episteme/wal/cli';
import type { CommandContext } from './context.js';

export interface AppCommand<F extends FlagSpecs = FlagSpecs> {
  /** Words that select it: `['consumers', 'list']`. */
  path: string[];
  summary: string;
  positionals: readonly PositionalSpec[];
  flags: F;
  run(args: ParsedArgs<F>, ctx: CommandContext): Promise<number>;
}

export function defineCommand<F extends FlagSpecs>(c: AppCommand<F>): AppCommand<F> {
  return c;
}

/** 130: stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it), after saying how far it got. */
export const Exit = { Ok: 0, Problem: 1, Usage: 2, Interrupted: 130 } as const;
