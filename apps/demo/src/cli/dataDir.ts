import { readdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isSegmentName } from '@episteme/wal/internals';
import { UsageError } from '@episteme/wal/cli';

/**
 * `--data` names the app's data directory, which holds the journal in
 * `journal/`. Pointed at a journal directory itself (a slip: `--data
 * ./episteme-data/journal`), a command that writes would create a second,
 * empty journal inside the first and append there: refused before anything
 * is opened, naming the directory the user likely meant. A directory that
 * cannot be listed (absent, not a directory) is left to the commands, which
 * say what they need.
 */
export function refuseJournalAsDataDir(dataDir: string): void {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return;
  }
  const segment = names.find(isSegmentName);
  if (segment === undefined) return;
  const parent = dirname(resolve(dataDir));
  throw new UsageError(
    `${dataDir} is a journal directory itself (it holds the segment ${segment}): --data takes the app's data directory, whose journal is its journal/ subdirectory` +
      (basename(resolve(dataDir)) === 'journal' ? ` (--data ${parent}?)` : ''),
  );
}
