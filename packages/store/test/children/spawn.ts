import { join } from 'node:path';
import { spawnChild as spawnTsChild, type Child } from '../../../wal/test/children/spawn.js';

export type { Child };

/** Runs a TypeScript child of this folder from source (the journal tests' spawner: piped lines, killed after each test). */
export function spawnChild(script: string, args: string[]): Child {
  return spawnTsChild(join(import.meta.dirname, script), args);
}
