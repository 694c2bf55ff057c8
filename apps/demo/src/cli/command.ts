import type { Command, FlagSpecs } from '@episteme/wal/cli';
import type { CommandContext } from './context.js';

/** The exit codes of both CLIs (`ExitCode` of @episteme/wal/cli), under the app's name. */
export { ExitCode as Exit } from '@episteme/wal/cli';

/** A command of the app: the command model of episteme-wal, run with the app's context. */
export type AppCommand<F extends FlagSpecs = FlagSpecs> = Command<F, CommandContext>;

/** Identity function that lets TypeScript infer the flag types of a command. */
export function defineCommand<F extends FlagSpecs>(c: AppCommand<F>): AppCommand<F> {
  return c;
}
