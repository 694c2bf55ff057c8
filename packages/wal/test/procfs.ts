import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';

/*
 * /proc as a pseudo filesystem where mkdir answers ENOENT although the
 * parent exists (shared by the wal's and the demo's pseudoFs tests).
 */
const PROC_SUPER_MAGIC = 0x9fa0;

/** Why there is no procfs at /proc to try, or undefined when there is. */
export function noProcfs(): string | undefined {
  try {
    return statfsSync('/proc').type === PROC_SUPER_MAGIC ? undefined : '/proc is not a procfs mount here';
  } catch {
    return '/proc is not mounted here';
  }
}

/** A path under /proc that cannot be created. */
export const procPath = (): string => `/proc/episteme-test-${randomBytes(6).toString('hex')}`;
