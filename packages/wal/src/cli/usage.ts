import type { FlagSpecs } from './args.js';
import type { Command } from './command.js';

// Usage text of both CLIs, generated from their tables of commands and
// flags so that it cannot drift from the parser.

type Listed = Pick<Command, 'name' | 'summary' | 'positionals' | 'flags'>;

/** Rows of `[syntax, what it does]`, the second column aligned. */
export function columns(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([s]) => s.length));
  return rows.map(([s, d]) => `${indent}${s.padEnd(width)}  ${d}`);
}

export function flagRows(flags: FlagSpecs, indent = ''): [string, string][] {
  return Object.entries(flags).map(([name, f]) => {
    const syntax = f.type === 'boolean' ? `--${name}` : `--${name} <${f.value ?? 'value'}>`;
    return [`${indent}${f.short ? `-${f.short}, ` : ''}${syntax}`, f.description];
  });
}

const signature = (c: Pick<Listed, 'name' | 'positionals'>): string => [c.name, ...c.positionals.map((p) => `<${p.name}>`)].join(' ');

/** The command list; the flags of each command under it when `withFlags`. */
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
