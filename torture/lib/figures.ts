/**
 * The figures of a run: counters by dotted key, invariant violations (any
 * one fails the run) and findings (bugs that break no crash invariant, such
 * as an untyped error, reported with their seed but not failing the run).
 */
export interface Problem {
  /** `crash` (an invariant after a crash), `fuzz` (bad input), `harness` (the torture itself). */
  area: 'crash' | 'fuzz' | 'harness';
  /** Where to replay: `--seed S --session N` or a fuzz case. */
  replay: string;
  message: string;
}

const MAX_PRINTED = 40;

/** Long runs of one character (a 300-byte name) shown as `x…(300)`. */
function shorten(text: string): string {
  return text.replace(/(.)\1{19,}/g, (run, c: string) => `${c}…(${run.length})`);
}

/** One bug, however many times it shows: numbers, hex, paths and quoted argument lists stripped. */
export function dedupeKey(message: string): string {
  return message
    .replace(/episteme(-wal)?( [a-z]+)*:/g, 'episteme:')
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/(["'])[^"']*\1/g, '…')
    .replace(/\/[^\s:,)]+/g, '<path>')
    .replace(/\b[0-9a-f]{6,}\b/g, '#')
    .replace(/\d+/g, '#')
    .slice(0, 160);
}

export class Figures {
  readonly startedAt = performance.now();
  private readonly counters = new Map<string, number>();
  readonly violations: Problem[] = [];
  readonly findings: Problem[] = [];
  private readonly findingKeys = new Set<string>();
  /** Printed once at the end (a skipped part, a note on the environment). */
  readonly notes: string[] = [];

  count(key: string, n = 1): void {
    if (n !== 0) this.counters.set(key, (this.counters.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.counters.get(key) ?? 0;
  }

  sum(prefix: string): number {
    let s = 0;
    for (const [k, v] of this.counters) if (k.startsWith(prefix)) s += v;
    return s;
  }

  entries(prefix: string): Array<[string, number]> {
    return [...this.counters].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b));
  }

  violation(area: Problem['area'], replay: string, text: string): void {
    const message = shorten(text);
    this.violations.push({ area, replay, message });
    process.stdout.write(`VIOLATION [${area}] ${message}\n  replay: ${replay}\n`);
  }

  /** A bug that breaks no invariant; the same message (or `key`) is kept once. */
  finding(area: Problem['area'], replay: string, text: string, key = dedupeKey(shorten(text))): void {
    const message = shorten(text);
    key = `${area}:${key}`;
    this.count('findings.occurrences');
    if (this.findingKeys.has(key)) return;
    this.findingKeys.add(key);
    this.findings.push({ area, replay, message });
    process.stdout.write(`FINDING [${area}] ${message}\n  replay: ${replay}\n`);
  }

  note(message: string): void {
    if (!this.notes.includes(message)) {
      this.notes.push(message);
      process.stdout.write(`note: ${message}\n`);
    }
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** The final report: figures by theme, then problems, then how to replay. */
  render(seed: number, command: string): string {
    const L: string[] = [];
    const row = (label: string, value: string | number): void => {
      L.push(`  ${label.padEnd(52)} ${typeof value === 'number' ? value.toLocaleString('en-US') : value}`);
    };
    const group = (title: string, prefix: string, strip = true): void => {
      const items = this.entries(prefix);
      if (items.length === 0) return;
      L.push(`${title}:`);
      for (const [k, v] of items) row(strip ? k.slice(prefix.length) : k, v);
    };
    const secs = this.elapsedMs() / 1000;
    L.push('');
    L.push('==================== episteme torture: figures ====================');
    row('seed', String(seed));
    row('run time', `${Math.floor(secs / 60)} min ${(secs % 60).toFixed(1)} s`);
    group('sessions (one journal directory each)', 'session.');
    L.push('crashes survived (each followed by reopen + full invariant check):');
    row('checks after a crash', this.get('check.total'));
    for (const [k, v] of this.entries('crash.')) row(k.slice('crash.'.length), v);
    group('power losses survived (SimulatedDisk)', 'powerloss.');
    L.push('records:');
    row('acknowledged', this.get('records.acked'));
    row('  of which durable when acknowledged', this.get('records.ackedDurable'));
    row('verified present, intact, at their offset (sum over checks)', this.get('records.verified'));
    row('acknowledged with durability none, lost to power loss (allowed)', this.get('records.unsyncedLost'));
    row('unacknowledged writes found after a crash (kept)', this.get('records.unackedSurvivors'));
    row('segments deleted by cursor-driven cleanup', this.get('cleanup.segmentsDeleted'));
    L.push('streams (event store writers; checks after every crash and power loss):');
    row('stream commits acknowledged (first attempts)', this.get('streams.commitsAcked'));
    row('retries with the same event ids (resolved)', this.get('streams.retries'));
    row('  answered alreadyAppended', this.get('streams.alreadyAppended'));
    row('version conflicts (typed, nothing written)', this.get('streams.conflicts') + this.get('streams.retryConflicts'));
    row('rejected otherwise (outcome unknown, retried)', this.get('streams.rejectedUnknownOutcome'));
    row('stream checks (whole commits, dense versions, index = fold)', this.get('streams.checks'));
    row('acknowledged commits verified at their versions (sum)', this.get('streams.commitsVerified'));
    row('events folded from the log (sum over checks)', this.get('streams.eventsFolded'));
    row('unacknowledged commits found whole after a crash', this.get('streams.unackedCommitsFoundWhole'));
    row('acknowledged unsynced commits lost to power loss (allowed)', this.get('streams.ackedUnsyncedLost'));
    row('power losses (all kinds)', this.sum('powerloss.'));
    row('power losses per minute', (this.sum('powerloss.') / Math.max(secs / 60, 1e-9)).toFixed(1));
    group('faults injected, by kind', 'fault.');
    L.push('recovery:');
    row('quarantine cuts (each compared byte for byte)', this.get('quarantine.cuts'));
    row('bytes quarantined', this.get('quarantine.bytes'));
    for (const [k, v] of this.entries('quarantine.reason.')) row(`  reason ${k.slice('quarantine.reason.'.length)}`, v);
    group('cursor clamps after recovery (reported by the registry)', 'clamp.');
    group('projections', 'projection.');
    group('consumers and readers', 'consumer.');
    group('read-only readers', 'reader.');
    group('disk full (tmpfs)', 'tmpfs.');
    group('fuzz (bad input)', 'fuzz.');
    group('observations (allowed by the design, counted)', 'observe.');
    L.push('problems:');
    row('invariant violations', this.violations.length);
    row('findings (bugs outside the crash invariants)', this.findings.length);
    for (const p of [...this.violations, ...this.findings].slice(0, MAX_PRINTED)) {
      const tag = this.violations.includes(p) ? 'VIOLATION' : 'FINDING';
      L.push(`  ${tag} [${p.area}] ${p.message}`);
      L.push(`      replay: ${p.replay}`);
    }
    if (this.notes.length > 0) {
      L.push('notes:');
      for (const n of this.notes) L.push(`  ${n}`);
    }
    L.push(`replay this run: ${command} --seed ${seed}`);
    L.push('===================================================================');
    return L.join('\n') + '\n';
  }
}
