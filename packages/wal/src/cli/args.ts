/**
 * A small typed argument parser for the CLI. Our own rather than a
 * dependency: the grammar is tiny and the behaviour we need (reject unknown
 * flags, take `--from -1` as a value so that it can be rejected as a
 * negative number, one-line messages) is easier to guarantee than to configure.
 */

export type FlagType = 'boolean' | 'integer' | 'string';

export interface FlagSpec {
  type: FlagType;
  /** Placeholder of the value in usage text, e.g. `offset` for `--from <offset>`. */
  value?: string;
  description: string;
  /** Integers only: the smallest and largest values accepted. */
  min?: number;
  max?: number;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface PositionalSpec {
  name: string;
  description: string;
}

export type FlagValues<F extends FlagSpecs> = {
  [K in keyof F]: F[K]['type'] extends 'boolean' ? boolean : F[K]['type'] extends 'integer' ? number | undefined : string | undefined;
};

export interface ArgSpec<F extends FlagSpecs> {
  positionals: readonly PositionalSpec[];
  flags: F;
}

export interface ParsedArgs<F extends FlagSpecs> {
  positionals: string[];
  flags: FlagValues<F>;
}

/** Bad command line: exit code 2 and a one-line message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** Stable code for `--json` error output. */
  readonly code = 'CLI_USAGE';
}

const NON_NEGATIVE_INTEGER = /^(0|[1-9][0-9]*)$/;

/** Parses a decimal non-negative safe integer, as offsets and counts are. */
export function parseNonNegativeInteger(text: string, what: string): number {
  const digits = NON_NEGATIVE_INTEGER.test(text);
  const n = digits ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    // an integer past 2^53 - 1 cannot be told from its neighbours: say that, not "not an integer"
    if (digits) throw new UsageError(`${what} is too large: at most ${Number.MAX_SAFE_INTEGER}, got ${text}`);
    throw new UsageError(`${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** The message for a flag given without its value (`next`: the word that followed it, a flag, if any). */
export function missingValue(name: string, flag: FlagSpec, next?: string): string {
  const got = next === undefined ? '' : ` (got the flag ${next.split('=')[0]}; a value that starts with -- is written --${name}=<value>)`;
  return `--${name} needs a value <${flag.value ?? 'value'}>${got}`;
}

export function parseArgs<F extends FlagSpecs>(argv: readonly string[], spec: ArgSpec<F>): ParsedArgs<F> {
  const positionals: string[] = [];
  const values: Record<string, boolean | number | string | undefined> = {};
  for (const [name, flag] of Object.entries(spec.flags)) values[name] = flag.type === 'boolean' ? false : undefined;
  const seen = new Set<string>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // A lone `-` is a positional by convention (stdin), never a flag.
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown flag ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = Object.hasOwn(spec.flags, name) ? spec.flags[name] : undefined;
    if (!flag) throw new UsageError(`unknown flag --${name}`);
    if (seen.has(name)) throw new UsageError(`--${name} given more than once`);
    seen.add(name);
    if (flag.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    let text: string;
    if (eq !== -1) {
      text = arg.slice(eq + 1);
    } else {
      // The next word is the value even when it starts with `-`: `--from -1`
      // must be reported as a negative offset, not as an unknown flag `-1`.
      // Not when it starts with `--`: `--subject --source x` left out the
      // subject, it does not name one called "--source" (that is written
      // `--subject=--source`).
      if (i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) throw new UsageError(missingValue(name, flag, argv[i + 1]));
      text = argv[++i]!;
    }
    if (flag.type === 'integer') {
      const n = parseNonNegativeInteger(text, `--${name}`);
      if ((flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max)) {
        throw new UsageError(`--${name} must be between ${flag.min ?? 0} and ${flag.max ?? Number.MAX_SAFE_INTEGER}, got ${n}`);
      }
      values[name] = n;
    } else {
      values[name] = text;
    }
  }

  const missing = spec.positionals[positionals.length];
  if (missing) throw new UsageError(`missing argument <${missing.name}>`);
  if (positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[spec.positionals.length])}`);
  }
  return { positionals, flags: values as FlagValues<F> };
}
