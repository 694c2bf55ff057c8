import type { FlagSpec } from './args.js';
import type { Command } from './command.js';
import { commands } from './commands/index.js';

export const PROGRAM = 'episteme-wal';

/** Usage text is generated from the command table so that it cannot drift from the parser. */
export function mainUsage(): string {
  const width = Math.max(...commands.map((c) => signature(c).length));
  return [
    `${PROGRAM}: inspect, verify and recover an Episteme write-ahead log directory`,
    '',
    `Usage: ${PROGRAM} <command> <dir> [flags]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${signature(c).padEnd(width)}  ${c.summary}`),
    '',
    'Global flags:',
    '  -h, --help  show help (also: episteme-wal help <command>)',
    '  --debug     show stack traces of errors',
    '  --version   show the version (and the journal format it writes)',
    '',
    'Exit codes: 0 ok; 1 problem in the journal (damage found, recovery refused);',
    '            2 usage error or bad input (nothing was changed);',
    '            130 interrupted by Ctrl-C or SIGTERM (append: closed cleanly, says after which line)',
    '',
  ].join('\n');
}

/**
 * A command's usage. Run through an app that names the journal itself
 * (`episteme wal dump` on its own data directory), `suppliedDir` is that
 * journal: the `<dir>` argument is left out of the syntax, as the user types
 * none, and the journal is named instead.
 */
export function commandUsage(c: Command, how: { program?: string; suppliedDir?: string } = {}): string {
  const flags = Object.entries(c.flags).map(([name, f]) => [flagSyntax(name, f), f.description] as const);
  const width = Math.max(0, ...flags.map(([s]) => s.length));
  const positionals = how.suppliedDir === undefined ? c.positionals : c.positionals.filter((p) => p.name !== 'dir');
  return [
    `Usage: ${how.program ?? PROGRAM} ${c.name} ${positionals.map((p) => `<${p.name}>`).join(' ')} ${flags.map(([s]) => `[${s}]`).join(' ')}`.replace(/ +/g, ' ').trimEnd(),
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    '',
    ...(how.suppliedDir !== undefined ? [`Journal: ${how.suppliedDir}`] : []),
    ...(positionals.length ? ['Arguments:', ...positionals.map((p) => `  <${p.name}>  ${p.description}`)] : []),
    ...(flags.length ? ['', 'Flags:', ...flags.map(([s, d]) => `  ${s.padEnd(width)}  ${d}`)] : []),
    '',
  ].join('\n');
}

function signature(c: Command): string {
  return `${c.name} ${c.positionals.map((p) => `<${p.name}>`).join(' ')}`;
}

function flagSyntax(name: string, f: FlagSpec): string {
  return f.type === 'boolean' ? `--${name}` : `--${name} <${f.value ?? 'value'}>`;
}
