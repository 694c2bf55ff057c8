/**
 * `npm run demo`: the whole product in under a minute, in a fresh directory.
 * 1. Concurrent producers append 100,000 validated assertions, each to its
 *    own stream of the event store with an expected version ('no_stream'),
 *    with group commit, while the projections and the audit consumer follow.
 * 2. A summary table: records, throughput, heads, cursors, lags.
 * 3. A writer child process is SIGKILLed mid-stream; the store is reopened,
 *    the journal's RecoveryReport printed, the projections resume or
 *    rebuild, and every acknowledged assertion is checked to be in its
 *    stream and in the beliefs. Exit 0 only if none is lost.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { container } from 'tsyringe';
import { table, formatBytes } from '@episteme/wal/cli';
import { appOf, wire } from '../app/container.js';
import { resolveConfig } from '../app/config.js';
import { streamOf, type AssertionEvent } from '../domain/events.js';
import type { BeliefsState } from '../projections/beliefs.js';
import { runAppendPhase } from './appendPhase.js';

const TOTAL = Number(process.env.EPISTEME_DEMO_RECORDS ?? 100_000);
const PRODUCERS = 64;
const say = (s: string): void => void process.stdout.write(s + '\n');

const dataDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'episteme-demo-'));
const config = resolveConfig({ dataDir, groupCommit: true, durability: 'immediate', maxSegmentBytes: 16 * 1024 * 1024 });
const segments = (): number => readdirSync(join(dataDir, 'journal')).filter((n) => n.endsWith('.wal')).length;
say(`Episteme demo in ${dataDir}\n`);

// ---- 1. producers, projections and the audit consumer at once
let app = appOf(await wire(container.createChildContainer(), config));
const { appended, appendSeconds, followSeconds, head } = await runAppendPhase(app, TOTAL, PRODUCERS);
say('1. appended with group commit, projections and audit export following');
say(
  table(
    ['assertions', 'producers', 'append s', 'assertions/s', 'MB/s', 'all caught up s', 'head', 'segments'],
    [[String(appended), String(PRODUCERS), appendSeconds.toFixed(2), Math.round(appended / appendSeconds).toLocaleString('en'), (head / 1e6 / appendSeconds).toFixed(1), followSeconds.toFixed(2), String(head), String(segments())]],
  ),
);
say(table(['consumer', 'cursor', 'head', 'lag records', 'state'], app.registry.list().map((c) => [c.name, String(c.cursor), String(c.head), String(c.lagRecords), c.state])));
say(table(['projection', 'version', 'checkpoint', 'events', 'status'], app.engine.list().map((p) => [p.name, String(p.version), String(p.checkpoint), String(p.events), p.status])));
app.audit.close();
await app.store.close();

// ---- 2. a writer killed mid-stream
say('2. a writer process appends with 16 producers and is SIGKILLed mid-stream');
const acked = await runAndKill(dataDir);
say(`   the child acknowledged ${acked.size} assertions before it was killed\n`);

// ---- 3. reopen: recovery, projections, and the check
app = appOf(await wire(container.createChildContainer(), config));
const report = app.store.recovery;
say('3. reopened: RecoveryReport of the journal, and the stream index');
say(
  table(
    ['segments', 'records verified', 'bytes verified', 'head', 'cuts', 'ms', 'index from', 'records replayed'],
    [[String(report.segmentsChecked), String(report.recordsVerified), formatBytes(report.bytesVerified), String(report.head), String(report.cuts.length), report.durationMs.toFixed(0), app.store.openStats.source, String(app.store.openStats.recordsReplayed)]],
  ),
);
for (const c of report.cuts) say(`   cut ${c.segment} @${c.position} (offset ${c.offset}): ${c.reason}, ${c.bytes} bytes -> ${c.quarantine}`);
const starts = await app.engine.start({ follow: false });
say(table(['projection', 'start', 'reason', 'events applied', 'checkpoint'], starts.map((s) => [s.name, s.mode, s.reason ?? '-', String(s.events), String(s.checkpoint)])));
app.audit.open();
await app.audit.run(app.registry, new AbortController().signal, { stopAtHead: true });

const beliefs = app.engine.query<BeliefsState>('beliefs').state;
let lost = 0;
for (const [position, id] of acked) {
  const { events } = await app.store.readStream<AssertionEvent>(streamOf(id));
  const made = events[0];
  if (made?.type !== 'AssertionMade' || made.data.id !== id || made.globalPosition !== position || !beliefs.subjectOf.has(id)) lost++;
}
const exported = readFileSync(join(dataDir, 'audit', 'assertions.ndjson'), 'utf8').trimEnd().split('\n');
const exportedPositions = new Set(exported.map((l) => (JSON.parse(l) as { globalPosition: number }).globalPosition));
// one event per commit, one commit per record: the log's records are the events
const records = app.store.log.countRecords(0);
await app.engine.stop();
app.audit.close();
await app.store.close();

say(`   acknowledged assertions verified after the crash: ${acked.size - lost}/${acked.size} (lost: ${lost})`);
say(`   audit export: ${exported.length} lines for ${records} events, ${exportedPositions.size} distinct global positions (exactly once: ${exported.length === records && exportedPositions.size === records ? 'yes' : 'NO'})`);
say(`\ndata left in ${dataDir}; inspect it with: npx episteme --data ${dataDir} stats`);
process.exitCode = lost === 0 && exported.length === records && exportedPositions.size === records ? 0 : 1;

/** Runs the writer child, kills it once it has acknowledged a good number of appends; the acks by global position. */
async function runAndKill(dir: string): Promise<Map<number, string>> {
  const self = fileURLToPath(import.meta.url);
  const fromSource = self.endsWith('.ts');
  const script = join(self, '..', fromSource ? 'writerChild.ts' : 'writerChild.js');
  const args = fromSource ? ['--conditions=source', '--import', 'tsx', script] : [script];
  const proc = spawn(process.execPath, [...args, dir, '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acks = new Map<number, string>();
  let partial = '';
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('ack ')) {
          const [, position, id] = line.split(' ');
          acks.set(Number(position), id!);
        }
      }
      if (acks.size >= 2000 && !timer) timer = setTimeout(() => proc.kill('SIGKILL'), 50 + Math.random() * 200);
    });
    proc.on('exit', () => resolve());
  });
  return acks;
}
