import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Mode, Table } from './types.js';

/**
 * Results as JSON in bench/results/<YYYY-MM-DD>.json. Runs of the same day are
 * appended to the file, not overwritten, so that a quick run after a full
 * one keeps both (and a later change can be compared with an earlier run).
 */

export interface SuiteResult {
  name: string;
  durationMs: number;
  tables: Table[];
  error?: string;
}

export interface RunResult {
  startedAt: string;
  mode: Mode;
  node: string;
  platform: string;
  cpus: string;
  /** 1-minute load average at the start and the end: other work on the VM skews wall-clock figures. */
  loadAverage: { start: number; end?: number };
  suites: SuiteResult[];
}

export function newRun(mode: Mode): RunResult {
  const cpuList = cpus();
  return {
    startedAt: new Date().toISOString(),
    mode,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: `${cpuList.length} x ${cpuList[0]?.model ?? 'unknown'}`,
    loadAverage: { start: loadAvg1() },
    suites: [],
  };
}

export function loadAvg1(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/** Local date, since the file name is for humans browsing the directory. */
function today(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Appends `run` to today's file and returns its path. */
export function saveRun(resultsDir: string, run: RunResult): string {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${today()}.json`);
  let runs: RunResult[] = [];
  if (existsSync(path)) {
    try {
      const previous = JSON.parse(readFileSync(path, 'utf8')) as { runs?: RunResult[] };
      runs = Array.isArray(previous.runs) ? previous.runs : [];
    } catch {
      // A damaged file is not worth failing a benchmark run for: keep it aside.
      writeFileSync(`${path}.unreadable`, readFileSync(path));
    }
  }
  runs.push(run);
  writeFileSync(path, `${JSON.stringify({ runs }, null, 2)}\n`);
  return path;
}
