/**
 * The markdown report next to the JSON results: bench/results/<date>.md,
 * rendered from bench/results/<date>.json (every run of that day, newest
 * first), with the machine's description (CPU model, Node version, file
 * system of the temp dir), the peer comparison's statement of where
 * Episteme is behind, and every table of every suite.
 *
 * `npm run bench` writes it when the run's JSON has been saved (the peers
 * suite schedules it for process exit, after bench/index.ts saves the
 * JSON). By hand, for any day's results:
 *   node --import tsx bench/report.ts [YYYY-MM-DD | path/to/results.json]
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeMachine, type Machine } from './lib/peers/machine.js';
import type { RunResult } from './lib/results.js';
import { formatCell } from './lib/table.js';
import type { Cell, Table } from './lib/types.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');

/** Local date, as bench/lib/results.ts names the JSON file. */
function today(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

export function markdownTable(table: Table, heading = '####'): string {
  const out = [`${heading} ${esc(table.title)}`, ''];
  for (const note of table.notes ?? []) out.push(`> ${note}`);
  if (table.notes?.length) out.push('');
  const numeric = table.columns.map((_, i) => i > 0 && table.rows.some((r) => typeof r[i] === 'number'));
  out.push(`| ${table.columns.map(esc).join(' | ')} |`);
  out.push(`|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`);
  for (const row of table.rows) out.push(`| ${row.map((c: Cell) => esc(formatCell(c))).join(' | ')} |`);
  return out.join('\n');
}

function machineSection(run: RunResult | undefined, fallback: Machine): string {
  const recorded = run?.suites.find((s) => s.name === 'peers')?.tables.find((t) => t.title === 'peers: machine');
  const rows: Array<[string, string]> = recorded
    ? recorded.rows.map((r) => [String(r[0]), String(r[1])])
    : [
        ['CPU', `${fallback.cpus} x ${fallback.cpuModel}`],
        ['memory', `${fallback.memoryGiB} GiB`],
        ['Node', fallback.node],
        ['kernel', fallback.kernel],
        ['temp dir', fallback.tempDir],
        ['filesystem', `${fallback.filesystem} on ${fallback.device} (${fallback.mountOptions})`],
      ];
  return ['## Machine', '', '| what | value |', '|---|---|', ...rows.map(([k, v]) => `| ${esc(k)} | ${esc(v)} |`)].join('\n');
}

/** The behind table as plain sentences: the point of the report. */
function behindSection(run: RunResult): string | undefined {
  const t = run.suites.find((s) => s.name === 'peers')?.tables.find((x) => x.title.startsWith('peers: where Episteme is behind'));
  if (!t) return undefined;
  const out = ['#### Where Episteme is behind', ''];
  const skipped = t.notes?.find((n) => n.startsWith('better-sqlite3 and classic-level are not in this run'));
  if (skipped !== undefined) out.push(skipped);
  else if (t.rows.length === 0) out.push('Nowhere in this run: Episteme was equal to or better than both peers on every comparison.');
  // One line per workload and metric first: the range of how much better the peers were.
  const groups = new Map<string, { peers: Set<string>; worst: number; best: number }>();
  for (const r of t.rows) {
    const factor = r[6];
    if (typeof factor !== 'number' || factor <= 0) continue;
    const k = `${String(r[0])} (${String(r[3])})`;
    const g = groups.get(k) ?? { peers: new Set<string>(), worst: 0, best: Number.POSITIVE_INFINITY };
    g.peers.add(String(r[2]).startsWith('better-sqlite3') ? 'SQLite' : String(r[2]).startsWith('classic-level') ? 'LevelDB' : String(r[2]));
    g.worst = Math.max(g.worst, 1 / factor);
    g.best = Math.min(g.best, 1 / factor);
    groups.set(k, g);
  }
  const x = (v: number): string => `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}x`;
  for (const [k, g] of groups) {
    out.push(`- ${k}: behind ${[...g.peers].join(' and ')}, the peer ${g.best === g.worst ? x(g.best) : `${x(g.best)} to ${x(g.worst)}`} better.`);
  }
  const memory = run.suites.find((s) => s.name === 'peers')?.tables.find((x) => x.title.startsWith('peers: peak RSS'));
  if (memory) {
    const cells = memory.rows.map((r) => `${String(r[0])} ${formatCell(r[7] ?? null)} MB`).join(', ');
    const met = memory.rows.every((r) => r[10] === 'yes');
    out.push(`- Peak RSS (${memory.title.replace(/^peers: peak RSS /, '')}): ${cells}; goal under 200 MB ${met ? 'met' : 'NOT met'}.`);
  }
  out.push('', 'In detail:', '');
  for (const r of t.rows) {
    const [workload, payload, peer, metric, e, p, factor, verdict] = r;
    out.push(
      `- **${workload}**, ${payload}: ${peer} — ${metric}: Episteme ${formatCell(e ?? null)}, peer ${formatCell(p ?? null)} ` +
        `(Episteme/peer ${formatCell(factor ?? null)}; ${verdict}).`,
    );
  }
  out.push('', ...(t.notes ?? []).map((n) => `> ${n}`));
  return out.join('\n');
}

export function renderMarkdown(date: string, runs: RunResult[]): string {
  const newestFirst = [...runs].reverse();
  const latest = newestFirst.find((r) => r.suites.some((s) => s.name === 'peers')) ?? newestFirst[0];
  const out = [
    `# Episteme benchmarks, ${date}`,
    '',
    'Written by `npm run bench` from `' + `${date}.json` + '` next to this file (every run of the day, newest first).',
    'Figures hold for this machine; compare ratios within one run, not absolutes across runs (shared VM, noisy disk).',
    '',
    machineSection(latest, describeMachine()),
  ];
  for (const run of newestFirst) {
    out.push(
      '',
      `## ${run.mode} run, started ${run.startedAt}`,
      '',
      `${run.node} on ${run.platform}, ${run.cpus}; load average (1 min) ${run.loadAverage.start} at start, ${run.loadAverage.end ?? '?'} at end.`,
      `Suites: ${run.suites.map((s) => `${s.name} (${(s.durationMs / 1000).toFixed(1)} s${s.error ? ', FAILED' : ''})`).join(', ')}.`,
    );
    const behind = behindSection(run);
    if (behind) out.push('', behind);
    for (const suite of run.suites) {
      out.push('', `### suite ${suite.name}`);
      if (suite.error) out.push('', '```', suite.error, '```');
      for (const table of suite.tables) {
        if (table.title === 'peers: machine' || table.title.startsWith('peers: where Episteme is behind')) continue;
        out.push('', markdownTable(table));
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** Renders `<date>.json` (or the file given) to the .md beside it; returns its path. */
export function writeMarkdownReport(jsonPath = join(RESULTS_DIR, `${today()}.json`)): string {
  const { runs } = JSON.parse(readFileSync(jsonPath, 'utf8')) as { runs: RunResult[] };
  const date = /(\d{4}-\d{2}-\d{2})\.json$/.exec(jsonPath)?.[1] ?? today();
  const mdPath = jsonPath.replace(/\.json$/, '.md');
  writeFileSync(mdPath, renderMarkdown(date, runs));
  return mdPath;
}

let scheduled = false;

/**
 * Writes today's report when the process exits, once bench/index.ts has
 * saved this run's JSON: only if that file changed after this call (an
 * interrupted run, whose JSON was not saved, leaves the report as it was).
 */
export function scheduleMarkdownReport(): void {
  if (scheduled) return;
  scheduled = true;
  const since = Date.now();
  process.once('exit', () => {
    const jsonPath = join(RESULTS_DIR, `${today()}.json`);
    try {
      if (!existsSync(jsonPath) || statSync(jsonPath).mtimeMs < since) return;
      console.log(`markdown report written to ${writeMarkdownReport(jsonPath)}`);
    } catch (err) {
      console.error(`markdown report not written: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const arg = process.argv[2];
  const jsonPath = arg === undefined ? join(RESULTS_DIR, `${today()}.json`) : /^\d{4}-\d{2}-\d{2}$/.test(arg) ? join(RESULTS_DIR, `${arg}.json`) : resolve(arg);
  console.log(writeMarkdownReport(jsonPath));
}
