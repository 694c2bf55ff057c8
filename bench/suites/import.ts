import 'reflect-metadata';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '@episteme/wal';
import { defaultPrepareOptions, prepareLine, runCli } from '@episteme/demo';
import { interleavedRoundsAsync, median } from '../lib/timing.js';
import type { BenchContext, Cell, Mode } from '../lib/types.js';

/**
 * `episteme import` end to end (the demo app's bulk load): an NDJSON file of
 * assertions read, validated (the compiled check of the class-validator
 * decorators), appended in batches of 1000 with the default durability
 * (immediate, one sync per batch), through the CLI as a user runs it (in
 * process: no start-up of Node counted, the app's open and close are).
 * Next to it, in the same rounds: the same import on one thread
 * (`--workers 0`) and with one worker; the journal's own `appendBatch` of
 * the very records the import wrote (its commits, read back from a first
 * import), 1000 at a time each awaited, same journal options: issue 25's
 * goal is an import (one thread and default) at >= 0.5 of that; and the
 * validation alone on one thread over the lines in memory (JSON.parse,
 * validation, the event: the ceiling of one thread).
 */
export const name = 'import';

const SIZES: Record<Mode, { lines: number; rounds: number }> = {
  full: { lines: 200_000, rounds: 3 },
  quick: { lines: 50_000, rounds: 2 },
  // past the 2000 lines after which the import starts its workers
  smoke: { lines: 3_000, rounds: 1 },
};

/** The import's batch: its appends are awaited 1000 lines at a time. */
const BATCH = 1000;
const SUBJECTS = 2000;
const PREDICATES = ['orbits', 'isA', 'partOf', 'locatedIn', 'discoveredBy', 'hasMass', 'hasColor', 'memberOf'];
const SOURCES = ['wikidata', 'survey-2026', 'sensor-net', 'curator'];

/** Assertion i as an import line (~110 B; no id or time: the import makes them, as for most inputs). */
function line(i: number): string {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  return JSON.stringify({
    subject: `entity-${h % SUBJECTS}`,
    predicate: PREDICATES[(h >>> 11) % PREDICATES.length],
    object: `value-${(h >>> 7) % 5000}`,
    confidence: ((h >>> 3) % 1001) / 1000,
    source: SOURCES[i % SOURCES.length],
  });
}

let sink = 0;

export async function run(ctx: BenchContext): Promise<void> {
  const size = SIZES[ctx.mode];
  const dir = ctx.tempDir('episteme-bench-import-');
  const lines = Array.from({ length: size.lines }, (_, i) => line(i));
  const file = join(dir, 'assertions.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  const bytes = statSync(file).size;
  const workers = defaultPrepareOptions(bytes).workers;
  ctx.log(`${size.lines.toLocaleString('en-US')} lines (${(bytes / 1e6).toFixed(1)} MB), ${size.rounds} round(s), default workers ${workers}`);

  let runNo = 0;
  const importWith = async (args: string[], keep = false): Promise<string> => {
    const data = join(dir, `data-${runNo++}`);
    let out = '';
    let err = '';
    const code = await runCli(['--data', data, '--json', 'import', ...args, file], {
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
      stderrIsTTY: false,
      env: {},
    });
    if (!keep) rmSync(data, { recursive: true, force: true });
    const summary = JSON.parse(out || '{}') as { records?: number };
    if (code !== 0 || summary.records !== size.lines) throw new Error(`import ${args.join(' ')} failed (exit ${code}): ${out}${err}`);
    return data;
  };

  // the records an import writes (one commit per line), for the journal's own rate on the same bytes
  const sample = await importWith(['--workers', '0'], true);
  const payloads: Uint8Array[] = [];
  const written = await Journal.open({ dir: join(sample, 'journal') });
  try {
    for await (const rec of written.readFrom(0)) payloads.push(Uint8Array.from(rec.payload));
  } finally {
    await written.close();
    rmSync(sample, { recursive: true, force: true });
  }
  if (payloads.length !== size.lines) throw new Error(`the import wrote ${payloads.length} records for ${size.lines} lines`);
  const appendBatches = async (): Promise<void> => {
    const jdir = join(dir, `journal-${runNo++}`);
    const journal = await Journal.open({ dir: jdir, durability: 'immediate', groupCommit: true });
    try {
      for (let i = 0; i < payloads.length; i += BATCH) await journal.appendBatch(payloads.slice(i, i + BATCH));
    } finally {
      await journal.close();
      rmSync(jdir, { recursive: true, force: true });
    }
  };

  const { wall, cpu } = await interleavedRoundsAsync(size.rounds, {
    journal: appendBatches,
    defaults: () => importWith([]),
    oneThread: () => importWith(['--workers', '0']),
    oneWorker: () => importWith(['--workers', '1']),
    validateOnly: () => {
      for (const l of lines) {
        const p = prepareLine(l, 'import:bench');
        if (typeof p === 'string') throw new Error(p);
        sink += p.id.length;
      }
    },
  });
  if (sink < 0) console.log(sink);

  const rate = (ms: number[]): number => size.lines / (median(ms) / 1000);
  const rows: [string, number[], number[]][] = [
    ['journal appendBatch of the import\'s records (1000 at a time)', wall.journal, cpu.journal],
    [`import, default (--workers ${workers})`, wall.defaults, cpu.defaults],
    ['import --workers 0 (one thread)', wall.oneThread, cpu.oneThread],
    ['import --workers 1', wall.oneWorker, cpu.oneWorker],
    ['validation alone, one thread, in memory', wall.validateOnly, cpu.validateOnly],
  ];
  const base = rate(wall.journal);
  const goal = (w: number[]): string => `>= 0.5: ${rate(w) / base >= 0.5 ? 'met' : 'MISSED'}`;
  const goals = new Map([[wall.defaults, goal(wall.defaults)], [wall.oneThread, goal(wall.oneThread)]]);
  ctx.report({
    title: `import: NDJSON assertions end to end (${size.lines.toLocaleString('en-US')} lines, ${(bytes / 1e6).toFixed(1)} MB)`,
    notes: [
      `${size.rounds} round(s), cases interleaved; medians. lines/s and MB/s of the input file; CPU s = process CPU time, all threads.`,
      'ratio = lines/s of the row / records/s of the journal\'s appendBatch of the same records (issue 25: >= 0.5 for one thread and the default).',
    ],
    columns: ['case', 'lines/s', 'MB/s', 'wall s', 'CPU s', 'ratio', 'goal'],
    rows: rows.map(([label, w, c]): Cell[] => [
      label,
      Math.round(rate(w)),
      Number(((bytes / 1e6) / (median(w) / 1000)).toFixed(2)),
      Number((median(w) / 1000).toFixed(2)),
      Number((median(c) / 1000).toFixed(2)),
      Number((rate(w) / base).toFixed(2)),
      goals.get(w) ?? '',
    ]),
  });
}
