import type { Figures } from './figures.js';

// the one sleep of the packages, under the name the torture's modules import
export { sleep } from '@episteme/wal/internals';

/** What every session gets from the run. */
export interface SessionEnv {
  figures: Figures;
  /** The run's seed (sessions derive theirs from it and their number). */
  seed: number;
  /** The command line that replays a run, without --seed/--session. */
  command: string;
  /** A real directory for this run's journals (removed at the end unless --keep). */
  workDir: string;
  /** True once the time budget is spent (or the run was interrupted). */
  timeUp: () => boolean;
  /** Keep each session's directory (--keep); else it is removed when the session ends. */
  keep: boolean;
}

export function replayOf(env: SessionEnv, session: number): string {
  return `${env.command} --seed ${env.seed} --session ${session}`;
}

/** Runs `p`, turning a hang into a rejection that names what hung. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class HangError extends Error {}

export const quietLogger = { warn: (): void => undefined, info: (): void => undefined };
