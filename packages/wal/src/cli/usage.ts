import type { FlagSpec, FlagSpecs } from './args.js';
import type { Command } from './command.js';

/**
 * Usage text of both CLIs, generated from their command and flag tables so
 * that it cannot drift from the parser.
 */

type Listed = Pick<Command, 'name' | 'summary' | 'positionals' | 'flags'>;

/** Rows of two columns, the second aligned: `[syntax, what it does]`. */
export function columns(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([s]) => s.length));
  return rows.map(([s, d]) => `${indent}${s.padEnd(width)}  ${d}`);
}

export function flagSyntax(name: string, f: FlagSpec): string {
  const long = f.type === 'boolean' ? `--${name}` : `--${name} <${f.value ?? 'value'}>`;
  return f.short ? `-${f.short}, ${long}` : long;
}

export function flagRows(flags: FlagSpecs, indent = ''): [string, string][] {
  return Object.entries(flags).map(([name, f]) => [`${indent}${flagSyntax(name, f)}`, f.description]);
}

/** A command as the command list shows it: `consumers reset <name>`. */
export function signature(c: Pick<Listed, 'name' | 'positionals'>): string {
  return [c.name, ...c.positionals.map((p) => `<${p.name}>`)].join(' ');
}

/** The command list: one row per command, with the rows of its flags under it when `withFlags`. */
export function commandRows(commands: readonly Listed[], withFlags = false): [string, string][] {
  return commands.flatMap((c) => [[signature(c), c.summary] as [string, string], ...(withFlags ? flagRows(c.flags, '    ') : [])]);
}

/**
 * A command's usage. Run through an app that names the journal itself
 * (`episteme wal dump` on its own data directory), `suppliedDir` is that
 * journal: the `<dir>` argument is left out of the syntax, as the user types
 * none, and the journal is named instead.
 */
export function commandUsage(c: Listed, how: { program: string; suppliedDir?: string | undefined }): string {
  const flags = flagRows(c.flags);
  const positionals = how.suppliedDir === undefined ? c.positionals : c.positionals.filter((p) => p.name !== 'dir');
  return [
    `Usage: ${how.program} ${signature({ name: c.name, positionals })} ${flags.map(([s]) => `[${s}]`).join(' ')}`.trimEnd(),
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    '',
    ...(how.suppliedDir !== undefined ? [`Journal: ${how.suppliedDir}`] : []),
    ...(positionals.length ? ['Arguments:', ...positionals.map((p) => `  <${p.name}>  ${p.description}`)] : []),
    ...(flags.length ? ['', 'Flags:', ...columns(flags)] : []),
    '',
  ].join('\n');
}
