import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Rng } from '../rng.js';
import { fuzzArgParsers, fuzzDemoCli, fuzzWalCli, makeDemoFixtures, makeWalFixtures, type DemoCli } from './cliTargets.js';
import { describe, fuzzCursors, fuzzFormat, fuzzNames, fuzzOddDirectories, fuzzSegments, fuzzSnapshots, type FuzzContext } from './fileTargets.js';

export interface Target {
  weight: number;
  available: boolean;
  run(rng: Rng, ctx: FuzzContext, n: number): Promise<void>;
}

const DEMO_MAIN = join(import.meta.dirname, '..', '..', '..', 'apps', 'demo', 'src', 'cli', 'main.ts');

/** Every fuzz target with its share of the cases, and the fixtures they need. */
export function fuzzTargets(): { targets: Record<string, Target>; setup: (scratch: string) => Promise<string[]> } {
  let demo: DemoCli | undefined;
  const targets: Record<string, Target> = {
    'segment header, names, records (pure decoders)': { weight: 3, available: true, run: (rng, ctx) => fuzzFormat(rng, ctx) },
    'segment files (verify, readers, CLI, recovery)': { weight: 3, available: true, run: (rng, ctx, n) => fuzzSegments(rng, ctx, n) },
    'cursor files (decodeCursorFile, registry)': { weight: 3, available: true, run: (rng, ctx, n) => fuzzCursors(rng, ctx, n) },
    'snapshots (decodeSnapshot, engine start)': { weight: 3, available: true, run: (rng, ctx, n) => fuzzSnapshots(rng, ctx, n) },
    'consumer names': { weight: 1, available: true, run: (rng, ctx) => fuzzNames(rng, ctx) },
    'directories that are not journals': { weight: 1, available: true, run: (rng, ctx, n) => fuzzOddDirectories(rng, ctx, n) },
    'argument parsers (parseArgs, integers, torture)': { weight: 2, available: true, run: (rng, ctx) => fuzzArgParsers(rng, ctx) },
    'episteme-wal runCli argv': { weight: 3, available: true, run: (rng, ctx) => fuzzWalCli(rng, ctx) },
    'episteme (demo) runCli argv': { weight: 2, available: false, run: (rng, ctx) => fuzzDemoCli(rng, ctx, demo!) },
  };
  const setup = async (scratch: string): Promise<string[]> => {
    const notes: string[] = [];
    await makeWalFixtures(scratch);
    try {
      // reflect-metadata is loaded by the fuzz entry point, before this import
      const mod = (await import(pathToFileURL(DEMO_MAIN).href)) as { runCli?: DemoCli };
      if (typeof mod.runCli !== 'function') throw new Error('apps/demo/src/cli/main.ts exports no runCli');
      demo = mod.runCli;
      await makeDemoFixtures(scratch, demo);
      targets['episteme (demo) runCli argv']!.available = true;
    } catch (err) {
      notes.push(`the demo CLI is not fuzzed: ${describe(err)}`);
    }
    return notes;
  };
  return { targets, setup };
}
