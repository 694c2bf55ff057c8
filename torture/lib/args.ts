/** Command line of the torture run. */
export interface TortureArgs {
  /** Time budget in minutes (fractions allowed). */
  minutes: number;
  seed: number | undefined;
  /** Replay only this session of the seed's run. */
  session: number | undefined;
  /** Replay only this fuzz case of the seed's run. */
  fuzzCase: number | undefined;
  /** Session kinds (and `fuzz`) to run; all when absent. */
  only: Set<Kind> | undefined;
  /** Keep the work directory (journals of every session) for inspection. */
  keep: boolean;
  help: boolean;
}

export const KINDS = ['sim', 'process', 'tmpfs', 'streams', 'fuzz'] as const;
export type Kind = (typeof KINDS)[number];

export class TortureUsageError extends Error {}

export const USAGE = `usage: node --conditions=source --import tsx torture/index.ts --minutes <n> [--seed <s>]
       [--session <n> | --fuzz-case <n>] [--only sim,process,tmpfs,streams,fuzz] [--keep]

  --minutes <n>     time budget (fractions allowed; default 1)
  --seed <s>        seed of the run (0..4294967295; default: random, printed)
  --session <n>     replay one session of the seed's run (no time limit), then stop
  --fuzz-case <n>   replay one case of the seed's bad-input fuzz, then stop
  --only <kinds>    run only these parts: sim (power loss and faults on a simulated
                    disk), process (real processes, SIGKILL), tmpfs (a real disk
                    filling up; needs root), streams (event store writers:
                    power loss on a simulated disk, SIGKILL), fuzz (bad input)
  --keep            keep the work directory (every session's journal) for inspection`;

function value(argv: readonly string[], i: number, name: string): string {
  const v = argv[i + 1];
  if (v === undefined) throw new TortureUsageError(`${name} needs a value`);
  return v;
}

function integer(text: string, name: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) > max) throw new TortureUsageError(`${name} must be an integer in [0, ${max}], got ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseTortureArgs(argv: readonly string[]): TortureArgs {
  const args: TortureArgs = { minutes: 1, seed: undefined, session: undefined, fuzzCase: undefined, only: undefined, keep: false, help: false };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const name = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(argv, i, name);
      i++;
      return v;
    };
    if (seen.has(name) && name.startsWith('--')) throw new TortureUsageError(`${name} given twice`);
    seen.add(name);
    switch (name) {
      case '--minutes': {
        const text = take();
        const m = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
        if (!(m > 0 && m <= 7 * 24 * 60)) throw new TortureUsageError(`--minutes must be a positive number of minutes, got ${JSON.stringify(text)}`);
        args.minutes = m;
        break;
      }
      case '--seed':
        args.seed = integer(take(), '--seed', 0xffffffff);
        break;
      case '--session':
        args.session = integer(take(), '--session', 1e9);
        break;
      case '--fuzz-case':
        args.fuzzCase = integer(take(), '--fuzz-case', 1e12);
        break;
      case '--only': {
        const kinds = take().split(',').filter(Boolean);
        if (kinds.length === 0) throw new TortureUsageError('--only needs at least one of sim, process, tmpfs, fuzz');
        for (const k of kinds) if (!(KINDS as readonly string[]).includes(k)) throw new TortureUsageError(`--only: unknown part ${JSON.stringify(k)} (sim, process, tmpfs, fuzz)`);
        args.only = new Set(kinds as Kind[]);
        break;
      }
      case '--keep':
        if (inline !== undefined) throw new TortureUsageError('--keep takes no value');
        args.keep = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new TortureUsageError(`unknown argument ${JSON.stringify(raw)}`);
    }
  }
  if (args.session !== undefined && args.fuzzCase !== undefined) throw new TortureUsageError('--session and --fuzz-case exclude each other');
  if ((args.session !== undefined || args.fuzzCase !== undefined) && args.seed === undefined) throw new TortureUsageError('a replay (--session, --fuzz-case) needs the run\'s --seed');
  return args;
}
