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
    '            2 usage error or bad input (nothing was changed)',
    '',
  ].join('\n');
}

export function commandUsage(c: Command): string {
  const flags = Object.entries(c.flags).map(([name, f]) => [flagSyntax(name, f), f.description] as const);
  const width = Math.max(0, ...flags.map(([s]) => s.length));
  return [
    `Usage: ${PROGRAM} ${c.name} ${c.positionals.map((p) => `<${p.name}>`).join(' ')} ${flags.map(([s]) => `[${s}]`).join(' ')}`.trimEnd(),
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    '',
    'Arguments:',
    ...c.positionals.map((p) => `  <${p.name}>  ${p.description}`),
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
