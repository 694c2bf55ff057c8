/**
 * The argument grammar of both CLIs (`episteme-wal` and the app's
 * `episteme`). Node's `util.parseArgs` splits the words into tokens
 * (`--name=value`, `--`, a lone `-`, groups of short flags); the rules are
 * checked here, because its strict mode cannot state them and its messages
 * are not ours: unknown flags refused in one line naming them, `--from -1`
 * taken as a value so that it is refused as a negative number (strict mode
 * calls it ambiguous), a flag followed by `--flag` refused as missing its
 * value, a flag given twice refused. Not a library such as commander: it
 * would take as much configuration to refuse these, and print its own help.
 */
import { parseArgs as tokenize } from 'node:util';

export type FlagType = 'boolean' | 'integer' | 'string';

export interface FlagSpec {
  type: FlagType;
  /** Placeholder of the value in usage text, e.g. `offset` for `--from <offset>`. */
  value?: string;
  description: string;
  /** Integers only: the smallest and largest values accepted. */
  min?: number;
  max?: number;
  /** A one-letter alias (`h` for `-h`), accepted only as a word of its own. */
  short?: string;
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
function missingValue(name: string, flag: FlagSpec, next?: string): string {
  const got = next === undefined ? '' : ` (got the flag ${next.split('=')[0]}; a value that starts with -- is written --${name}=<value>)`;
  return `--${name} needs a value <${flag.value ?? 'value'}>${got}`;
}

type Token = NonNullable<ReturnType<typeof tokenize>['tokens']>[number];
type Values = Record<string, boolean | number | string | undefined>;

/**
 * Reads the flags of `flags` from the words. A command's parse refuses any
 * other flag; the split of a program's global flags (`global`) leaves the
 * other words, in order, for the command, and lets a switch repeat
 * (`--json` typed again at the end).
 */
function scan(argv: readonly string[], flags: FlagSpecs, global: boolean): { values: Values; positionals: string[]; rest: string[] } {
  const options = Object.fromEntries(Object.entries(flags).map(([name, f]) => [name, { type: f.type === 'boolean' ? 'boolean' : 'string', ...(f.short && { short: f.short }) }] as const));
  // a string or integer flag takes the next word, whatever it starts with: the checks below decide
  const { tokens } = tokenize({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values: Values = Object.fromEntries(Object.entries(flags).map(([name, f]) => [name, f.type === 'boolean' ? false : undefined]));
  const positionals: string[] = [];
  const seen = new Set<string>();
  const taken = new Set<number>();
  for (const t of tokens) {
    // a lone `-` is a positional by convention (stdin), and so is every word after `--`
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const flag = Object.hasOwn(flags, t.name) ? flags[t.name]! : undefined;
    // `--name`, or its short alias as a word of its own: `-hx` is not `-h`, and `-j` is no flag named `j`
    if (!flag || !(t.rawName.startsWith('--') || (flag.short !== undefined && argv[t.index] === t.rawName))) {
      if (global) continue;
      // the word as typed: `-abc`, not the `-a` of its tokens; `--bogus` without its `=value`
      const word = argv[t.index]!;
      throw new UsageError(`unknown flag ${word.startsWith('--') ? word.split('=')[0] : word}`);
    }
    if (seen.has(t.name) && !(global && flag.type === 'boolean')) throw new UsageError(`--${t.name} given more than once`);
    seen.add(t.name);
    values[t.name] = valueOf(t, flag);
    taken.add(t.index);
    if (t.value !== undefined && !t.inlineValue) taken.add(t.index + 1);
  }
  return { values, positionals, rest: argv.filter((_, i) => !taken.has(i)) };
}

function valueOf(t: Extract<Token, { kind: 'option' }>, flag: FlagSpec): boolean | number | string {
  const name = t.name;
  if (flag.type === 'boolean') {
    if (t.value !== undefined) throw new UsageError(`--${name} takes no value`);
    return true;
  }
  // The next word is the value even when it starts with `-`: `--from -1`
  // must be reported as a negative offset, not as an unknown flag `-1`.
  // Not when it starts with `--`: `--subject --source x` left out the
  // subject, it does not name one called "--source" (that is written
  // `--subject=--source`).
  if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new UsageError(missingValue(name, flag, t.value));
  if (flag.type === 'string') return t.value;
  const n = parseNonNegativeInteger(t.value, `--${name}`);
  if ((flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max)) {
    throw new UsageError(`--${name} must be between ${flag.min ?? 0} and ${flag.max ?? Number.MAX_SAFE_INTEGER}, got ${n}`);
  }
  return n;
}

export function parseArgs<F extends FlagSpecs>(argv: readonly string[], spec: ArgSpec<F>): ParsedArgs<F> {
  const { values, positionals } = scan(argv, spec.flags, false);
  const missing = spec.positionals[positionals.length];
  if (missing) throw new UsageError(`missing argument <${missing.name}>`);
  if (positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[spec.positionals.length])}`);
  }
  return { positionals, flags: values as FlagValues<F> };
}

/**
 * Takes a program's own flags (`--help`, `--debug`, the app's `--data`) out
 * of the words wherever they stand before `--`, as users type them before or
 * after the command; the other words are left, in order, for the command.
 */
export function splitGlobalFlags<F extends FlagSpecs>(argv: readonly string[], flags: F): { globals: FlagValues<F>; rest: string[] } {
  const { values, rest } = scan(argv, flags, true);
  return { globals: values as FlagValues<F>, rest };
}

/** Whether `--name` is among the words before `--`: for reporting an error found before (or instead of) the parse. */
export function flagTyped(argv: readonly string[], name: string): boolean {
  const end = argv.indexOf('--');
  return argv.slice(0, end === -1 ? argv.length : end).includes(`--${name}`);
}
