/**
 * Every `episteme` command through runCli in this process (the spawned suite,
 * cli.e2e.spec.ts, runs the same commands as real processes): output, --json
 * documents, exit codes, and what each one leaves on disk.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsumerRegistry } from '@episteme/consumers';
import { Journal } from '@episteme/wal';
import type { Belief, SubjectBeliefs } from '../src/projections/beliefs.js';
import { cli, FIXTURES, json, oneLineError, removeTempDirs, snapshotTree, STACK_FRAME, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

interface Appended {
  id: string;
  stream: string;
  version: number;
  globalPosition: number;
}
interface Stats {
  assertions: number;
  retractions: number;
  byPredicate: Record<string, number>;
  bySource: Record<string, number>;
  checkpoint: number;
}
interface ConsumerRow {
  name: string;
  cursor: number;
  head: number;
  lagBytes: number;
  lagRecords: number | null;
  lastCommitAt: string;
  state: string;
}

async function assertJson(data: string, ...flags: string[]): Promise<Appended> {
  const r = await cli(['--data', data, '--json', 'assert', ...flags]);
  expect(r.code, r.stderr).toBe(0);
  return json<Appended>(r.stdout);
}

async function beliefs(data: string, subject: string): Promise<SubjectBeliefs> {
  const r = await cli(['--data', data, 'beliefs', subject, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return json<SubjectBeliefs>(r.stdout);
}

async function stats(data: string): Promise<Stats> {
  const r = await cli(['--data', data, '--json', 'stats']);
  expect(r.code, r.stderr).toBe(0);
  return json<Stats>(r.stdout);
}

/** The journal's records as `wal dump --events --json` lists them: one commit each. */
async function dump(data: string): Promise<{ offset: number; kind: string; stream: string; events: { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[] }[]> {
  const r = await cli(['--data', data, '--json', 'wal', 'dump', '--events']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => json(l));
}

describe('assert', () => {
  it('appends a validated assertion to its own stream and prints its id, stream, version and global position', async () => {
    const data = join(tempDir(), 'data'); // does not exist yet: the first write creates it
    const r = await cli(['--data', data, 'assert', '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun', '--confidence', '0.99']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const m = /^id (\S+)\nstream assertion-(\S+)\nversion 1\nglobal position (\d+)\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(m![2]).toBe(m![1]);
    expect(Number(m![3])).toBe(0);

    const second = await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'moon', '--confidence', '0.2', '--source', 'a-child');
    expect(second).toEqual({ id: expect.any(String), stream: `assertion-${second.id}`, version: 1, globalPosition: expect.any(Number) });
    expect(second.globalPosition).toBeGreaterThan(0);
    expect(second.id).not.toBe(m![1]);

    // one commit per assertion, in its stream; a global position is its commit's place in the log
    const records = await dump(data);
    expect(records.map((x) => [x.offset, x.kind, x.stream])).toEqual([
      [0, 'commit', `assertion-${m![1]}`],
      [second.globalPosition, 'commit', second.stream],
    ]);
    const event = records[1]!.events[0]!;
    expect(event).toMatchObject({ type: 'AssertionMade', data: { id: second.id, subject: 'earth', predicate: 'orbits', object: 'moon', confidence: 0.2, source: 'a-child' }, metadata: { producer: 'cli', schema: 1 } });
    expect(Date.parse(event.data.assertedAt as string)).not.toBeNaN();
  });

  it('defaults confidence to 1 and source to "cli", and keeps a given --id', async () => {
    const data = tempDir();
    const a = await assertJson(data, '--subject', 'pluto', '--predicate', 'isA', '--object', 'dwarf planet', '--id', 'iau-2006');
    expect(a.id).toBe('iau-2006');
    const b = await beliefs(data, 'pluto');
    expect(b.assertions).toHaveLength(1);
    expect(b.assertions[0]).toMatchObject({ id: 'iau-2006', confidence: 1, source: 'cli', globalPosition: a.globalPosition });
  });

  it('takes the data directory from EPISTEME_DATA, and --data over it', async () => {
    const fromEnv = tempDir();
    const fromFlag = tempDir();
    const env = { EPISTEME_DATA: fromEnv };
    expect((await cli(['assert', '--subject', 's', '--predicate', 'p', '--object', 'o'], env)).code).toBe(0);
    expect((await cli(['--data', fromFlag, 'assert', '--subject', 's', '--predicate', 'p', '--object', 'o'], env)).code).toBe(0);
    expect((await cli(['--data', fromFlag, 'assert', '--subject', 's', '--predicate', 'p', '--object', 'o'], env)).code).toBe(0);
    expect((await stats(fromEnv)).assertions).toBe(1);
    expect((await stats(fromFlag)).assertions).toBe(2);
  });

  it('passes --segment-bytes, --durability and --group-commit to the journal', async () => {
    const data = tempDir();
    for (let i = 0; i < 12; i++) {
      const r = await cli(['--data', data, '--segment-bytes', '1024', '--durability', 'none', '--group-commit', 'off', 'assert', '--subject', `s${i}`, '--predicate', 'p', '--object', 'o']);
      expect(r.code, r.stderr).toBe(0);
    }
    const segments = json<{ segments: unknown[] }>((await cli(['--data', data, '--json', 'wal', 'segments'])).stdout).segments;
    expect(segments.length).toBeGreaterThan(1);
    expect((await stats(data)).assertions).toBe(12);
  });
});

describe('retract and beliefs', () => {
  it('keeps the standing assertions per subject, the most confident per predicate (earliest on a tie); a retracted one disappears', async () => {
    const data = tempDir();
    const sun = await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun', '--confidence', '0.99');
    const moon = await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'moon', '--confidence', '0.2');
    const blue = await assertJson(data, '--subject', 'earth', '--predicate', 'hasColor', '--object', 'blue', '--confidence', '0.7');
    const green = await assertJson(data, '--subject', 'earth', '--predicate', 'hasColor', '--object', 'green', '--confidence', '0.7');
    await assertJson(data, '--subject', 'mars', '--predicate', 'orbits', '--object', 'sun');

    let b = await beliefs(data, 'earth');
    expect(b.subject).toBe('earth');
    expect(b.assertions.map((a) => a.id)).toEqual([sun.id, moon.id, blue.id, green.id]);
    expect(b.best.orbits!.id).toBe(sun.id);
    expect(b.best.hasColor!.id).toBe(blue.id); // tie: the earlier one

    const text = await cli(['--data', data, 'beliefs', 'earth']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('earth: 4 standing assertion(s)');
    expect(text.stdout).toMatch(new RegExp(`orbits\\s+sun\\s+0\\.99\\s+cli\\s+${sun.id}\\s+0\\n`));

    const r = await cli(['--data', data, 'retract', sun.id, '--reason', 'a test said so']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^id ${sun.id}\\nstream assertion-${sun.id}\\nversion 2\\nglobal position \\d+\\n$`));
    const retraction = await cli(['--data', data, '--json', 'retract', blue.id, '--reason', 'greener now']);
    expect(json<Appended>(retraction.stdout)).toEqual({ id: blue.id, stream: blue.stream, version: 2, globalPosition: expect.any(Number) });

    b = await beliefs(data, 'earth');
    expect(b.assertions.map((a: Belief) => a.id)).toEqual([moon.id, green.id]);
    expect(b.best.orbits!.id).toBe(moon.id);
    expect(b.best.hasColor!.id).toBe(green.id);
    expect((await beliefs(data, 'mars')).assertions).toHaveLength(1);
    expect(await stats(data)).toMatchObject({ assertions: 5, retractions: 2 });
  });

  it('answers for an unknown subject with nothing, exit 0', async () => {
    const data = tempDir();
    await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun');
    expect(await beliefs(data, 'vulcan')).toEqual({ subject: 'vulcan', assertions: [], best: {} });
    const text = await cli(['--data', data, 'beliefs', 'vulcan']);
    expect(text).toMatchObject({ code: 0, stdout: 'no standing assertions about "vulcan"\n' });
  });

  it('a read-only query changes no file', async () => {
    const data = tempDir();
    await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun', '--id', 'a1');
    const before = snapshotTree(data);
    for (const argv of [['beliefs', 'earth'], ['stats'], ['consumers', 'list'], ['projections', 'list'], ['streams', 'list'], ['streams', 'show', 'assertion-a1'], ['wal', 'segments'], ['wal', 'dump'], ['wal', 'dump', '--events'], ['wal', 'verify']]) {
      const r = await cli(['--data', data, ...argv]);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(snapshotTree(data)).toEqual(before);
  });
});

describe('import', () => {
  it('appends the valid lines, reports each invalid one by number, and prints a summary', async () => {
    const data = tempDir();
    const file = join(FIXTURES, 'assertions.ndjson');
    const r = await cli(['--data', data, 'import', file]);
    expect(r.code).toBe(1); // some lines were refused: a problem with the input data, the valid lines are in
    const reported = r.stderr.trim().split('\n');
    expect(reported.map((l) => Number(/^line (\d+): /.exec(l)?.[1]))).toEqual([3, 4, 6, 8]);
    expect(reported[0]).toMatch(/not JSON/);
    expect(reported[1]).toMatch(/confidence must not be greater than 1/);
    expect(reported[2]).toMatch(/subject/);
    expect(reported[3]).toMatch(/colour/);
    expect(r.stdout).toMatch(/^imported 4 assertions from 9 lines \(.+\) in [\d.]+ s, [\d.]+ MB\/s; 4 invalid lines skipped\n$/);

    const mars = await beliefs(data, 'mars');
    expect(mars.assertions.map((a) => a.object)).toEqual(['red', 'rust', 'planet']);
    expect(mars.best.hasColor!.object).toBe('red');
    const venus = await beliefs(data, 'venus');
    expect(venus.assertions).toEqual([expect.objectContaining({ id: 'fixture-venus-1', assertedAt: '2026-01-01T00:00:00.000Z', source: 'almanac' })]);
    expect(await stats(data)).toMatchObject({ assertions: 4, bySource: { 'survey-2026': 2, almanac: 2 } });
  });

  it('a line that is JSON but not an object is refused by number, like any invalid line; a byte-order mark is not part of the first line', async () => {
    const data = tempDir();
    const file = join(tempDir(), 'odd.ndjson');
    const good = JSON.stringify({ subject: 'mars', predicate: 'hasColor', object: 'red', confidence: 0.9, source: 's' });
    const textConfidence = JSON.stringify({ subject: 'mars', predicate: 'p', object: 'o', confidence: '0.5', source: 's' });
    const noSource = JSON.stringify({ subject: 'mars', predicate: 'p', object: 'o', confidence: 0.5 });
    writeFileSync(file, `\ufeff${good}\nnull\n[1,2]\n"text"\n${textConfidence}\n${noSource}\n`);
    const r = await cli(['--data', data, 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      ...[2, 3, 4].map((n) => `line ${n}: not a JSON object (one assertion per line: {"subject", "predicate", "object", "confidence", "source"[, "id"]})`),
      // one message per field: the type when it is wrong, "required" when it is missing
      'line 5: invalid assertion: confidence must be a number from 0 to 1 (a JSON number, not a string)',
      'line 6: invalid assertion: source is required',
    ]);
    expect(r.stdout).toMatch(/^imported 1 assertion from 6 lines /);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('--json prints the summary as one document', async () => {
    const data = tempDir();
    const file = join(FIXTURES, 'assertions.ndjson');
    const r = await cli(['--data', data, '--json', 'import', file]);
    expect(r.code).toBe(1);
    const summary = json<Record<string, number> & { invalidLines: number[] }>(r.stdout);
    expect(summary).toMatchObject({ records: 4, invalid: 4, lines: 9, bytes: statSync(file).size });
    expect(summary.seconds).toBeGreaterThanOrEqual(0);
    expect(summary.mbPerSecond).toBeGreaterThanOrEqual(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(4);
    // the same lines as stderr names
    expect(summary.invalidLines).toEqual(r.stderr.trim().split('\n').map((l) => Number(/^line (\d+):/.exec(l)![1])));
  });

  it('appends a large file in batches, every record once, exit 0', async () => {
    const data = tempDir();
    const file = join(tempDir(), 'big.ndjson');
    const n = 2500; // more than two batches of 1000
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ subject: `s${i % 50}`, predicate: `p${i % 7}`, object: `o${i}`, confidence: (i % 101) / 100, source: `src${i % 3}` }));
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await cli(['--data', data, '--json', 'import', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ records: n, invalid: 0, lines: n });
    const s = await stats(data);
    expect(s.assertions).toBe(n);
    expect(Object.values(s.bySource).reduce((a, b) => a + b, 0)).toBe(n);
    const verify = json<{ ok: boolean; recordsVerified: number }>((await cli(['--data', data, '--json', 'wal', 'verify'])).stdout);
    expect(verify).toMatchObject({ ok: true, recordsVerified: n });
  });
});

describe('stats', () => {
  it('counts assertions per predicate and per source, and retractions', async () => {
    const data = tempDir();
    const a = await assertJson(data, '--subject', 'a', '--predicate', 'isA', '--object', 'x', '--source', 'wiki');
    await assertJson(data, '--subject', 'b', '--predicate', 'isA', '--object', 'y', '--source', 'survey');
    await assertJson(data, '--subject', 'c', '--predicate', 'partOf', '--object', 'z', '--source', 'wiki');
    expect((await cli(['--data', data, 'retract', a.id, '--reason', 'wrong'])).code).toBe(0);
    const s = await stats(data);
    expect(s).toMatchObject({ assertions: 3, retractions: 1, byPredicate: { isA: 2, partOf: 1 }, bySource: { wiki: 2, survey: 1 } });
    const head = (await dump(data)).length;
    expect(head).toBe(4);
    const text = await cli(['--data', data, 'stats']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^3 assertions, 1 retractions \(checkpoint \d+\)\n/);
    expect(text.stdout).toMatch(/isA\s+2\n/);
    expect(text.stdout).toMatch(/wiki\s+2\n/);
  });
});

describe('consumers', () => {
  it("lists, resets (earliest, latest, an offset) and deletes cursors: the projections', and one a program registered", async () => {
    const data = tempDir();
    const first = await assertJson(data, '--subject', 'a', '--predicate', 'p', '--object', 'o');
    const second = await assertJson(data, '--subject', 'b', '--predicate', 'p', '--object', 'o');
    await assertJson(data, '--subject', 'c', '--predicate', 'p', '--object', 'o');
    const list = async (): Promise<ConsumerRow[]> => {
      const r = await cli(['--data', data, 'consumers', 'list', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return json<ConsumerRow[]>(r.stdout);
    };
    // a consumer of the app's log, registered as a program would (the app's own is audit-export)
    const reader = await Journal.openForRead({ dir: join(data, 'journal') });
    ConsumerRegistry.forJournal(reader).register('indexer', { startFrom: 'earliest' });
    await reader.close();
    const rows = await list();
    expect(rows.map((c) => c.name).sort()).toEqual(['indexer', 'projection.beliefs', 'projection.stats']);
    const head = rows[0]!.head;
    for (const c of rows) {
      // a cursor is a position in the log: a commit's, which is its first event's global position
      expect(c).toMatchObject({ cursor: first.globalPosition, head, lagBytes: head, lagRecords: 3, state: expect.any(String) });
      expect(Date.parse(c.lastCommitAt)).not.toBeNaN();
    }
    const text = await cli(['--data', data, 'consumers', 'list']);
    expect(text.stdout).toMatch(/^name\s+cursor\s+head\s+lag bytes\s+lag records\s+last commit\s+state\n/);

    let r = await cli(['--data', data, 'consumers', 'reset', 'projection.stats', '--to', 'latest']);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: `projection.stats: cursor ${head}\n` });
    expect(r.stderr).toMatch(/^note: projection\.stats is the cursor of projection "stats": it only shows how far the projection got \(cleanup moves segments to the archive, where a rebuild still reads them\); the projection resumes from its snapshot, and its engine sets the cursor to the projection's checkpoint at its next snapshot; a deleted cursor is registered again by the next command that writes/);
    expect((await list()).find((c) => c.name === 'projection.stats')).toMatchObject({ cursor: head, lagBytes: 0, lagRecords: 0 });

    r = await cli(['--data', data, '--json', 'consumers', 'reset', 'indexer', '--to', String(second.globalPosition)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(json(r.stdout)).toMatchObject({ name: 'indexer', cursor: second.globalPosition });
    expect((await list()).find((c) => c.name === 'indexer')).toMatchObject({ cursor: second.globalPosition, lagRecords: 2 });

    r = await cli(['--data', data, 'consumers', 'reset', 'projection.stats', '--to', 'earliest']);
    expect(r).toMatchObject({ code: 0, stdout: 'projection.stats: cursor 0\n' });

    r = await cli(['--data', data, 'consumers', 'delete', 'projection.stats']);
    expect(r).toMatchObject({ code: 0, stdout: 'deleted consumer projection.stats\n' });
    expect((await list()).map((c) => c.name).sort()).toEqual(['indexer', 'projection.beliefs']);
    for (const name of ['projection.beliefs', 'indexer']) {
      r = await cli(['--data', data, '--json', 'consumers', 'delete', name]);
      expect(json(r.stdout)).toEqual({ deleted: name });
    }
    expect(await list()).toEqual([]);
    expect((await cli(['--data', data, 'consumers', 'list'])).stdout).toBe('no consumers registered\n');
    // the next command that writes registers the projections' cursors again
    await assertJson(data, '--subject', 'd', '--predicate', 'p', '--object', 'o');
    expect((await list()).map((c) => c.name).sort()).toEqual(['projection.beliefs', 'projection.stats']);
  });
});

describe('projections', () => {
  it('lists version, checkpoint and state; rebuild from offset 0 prints a final rate and saves the snapshot', async () => {
    const data = tempDir();
    for (let i = 0; i < 5; i++) await assertJson(data, '--subject', `s${i}`, '--predicate', 'p', '--object', 'o');
    const lastOffset = (await dump(data)).at(-1)!.offset;
    const listed = async (): Promise<{ name: string; version: number; checkpoint: number | null; head: number; events: number; state: string }[]> => {
      const r = await cli(['--data', data, '--json', 'projections', 'list']);
      expect(r.code, r.stderr).toBe(0);
      return json(r.stdout);
    };
    const first = await cli(['--data', data, 'projections', 'list']);
    expect(first.stderr).toBe('note: every query rebuilds beliefs, stats from offset 0 in memory until a snapshot is saved: `episteme projections rebuild <name>` saves one (it needs the log from offset 0; so does an app that runs the projection engine)\n');
    let rows = await listed();
    expect(rows.map((p) => p.name)).toEqual(['beliefs', 'stats']);
    expect(rows[0]).toMatchObject({ version: 5, checkpoint: null, events: 0, state: expect.stringMatching(/no snapshot/) });
    const journalHead = rows[0]!.head;
    expect(journalHead).toBeGreaterThan(lastOffset);

    const r = await cli(['--data', data, 'projections', 'rebuild', 'beliefs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^rebuilt beliefs from offset 0: 5 events in [\\d.]+ s \\(\\d+ events/s\\), checkpoint ${journalHead}\\n$`));
    rows = await listed();
    expect(rows[0]).toMatchObject({ name: 'beliefs', checkpoint: journalHead, events: 5, state: 'current' });
    expect(rows[1]).toMatchObject({ name: 'stats', checkpoint: null });

    const j = await cli(['--data', data, '--json', 'projections', 'rebuild', 'stats']);
    expect(j.code, j.stderr).toBe(0);
    expect(json(j.stdout)).toMatchObject({ name: 'stats', reason: 'requested', events: 5, checkpoint: journalHead, rate: expect.any(Number), durationMs: expect.any(Number) });
    expect((await listed())[1]).toMatchObject({ checkpoint: journalHead, state: 'current' });
    // queries answer the same after the rebuild
    expect((await stats(data)).assertions).toBe(5);

    const text = await cli(['--data', data, 'projections', 'list']);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^name\s+version\s+checkpoint\s+head\s+events\s+state\n/);
    expect(text.stdout).toMatch(/beliefs\s+5\s+\d+\s+\d+\s+5\s+current/);
  });
});

describe('help and errors', () => {
  it('--help lists every command and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['assert', 'retract', 'import', 'beliefs', 'stats', 'streams list', 'streams show', 'consumers list', 'consumers reset', 'consumers delete', 'projections list', 'projections rebuild', 'wal segments|dump|verify|recover']) {
      expect(r.stdout).toContain(`  ${c}`);
    }
    for (const f of ['--data', '--json', '--debug', '--durability']) expect(r.stdout).toContain(f);
    expect(r.stdout).toMatch(/Exit codes: 0 ok, 1 .*, 2 /);
    expect((await cli(['help'])).code).toBe(0);
    expect((await cli(['-h'])).code).toBe(0);
    expect((await cli(['assert', '--help'])).code).toBe(0);
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('Usage: episteme');
    // with --json, a script gets an error document as for any other failure
    const bareJson = await cli(['--json']);
    expect(bareJson.code).toBe(2);
    expect(json<{ error: { code: string } }>(bareJson.stdout).error.code).toBe('CLI_USAGE');
    expect(bareJson.stderr).toBe('episteme: missing command (episteme --help lists them)\n');
  });

  it('help for one command or group lists only those (and the global flags); wal help is the journal tool own', async () => {
    for (const argv of [['assert', '--help'], ['help', 'assert'], ['assert', '--subject', 'x', '--help']]) {
      const r = await cli(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('  assert');
      expect(r.stdout).toContain('--confidence');
      expect(r.stdout).not.toContain('  retract');
      expect(r.stdout).toContain('--data');
    }
    const group = await cli(['help', 'consumers']);
    expect(group.stdout.match(/^ {2}consumers \w+/gm)).toEqual(['  consumers list', '  consumers reset', '  consumers delete']);
    const withName = await cli(['consumers', 'reset', 'indexer', '--help']);
    expect(withName.stdout.match(/^ {2}consumers \w+/gm)).toEqual(['  consumers reset']);
    const wal = await cli(['wal', 'dump', '--help']);
    expect(wal.code).toBe(0);
    expect(wal.stdout).toContain('--from');
  });

  it('--debug adds the stack trace of an error; without it, one line', async () => {
    const data = join(tempDir(), 'a-file');
    writeFileSync(data, 'not a directory');
    const argv = ['--data', data, 'assert', '--subject', 's', '--predicate', 'p', '--object', 'o'];
    const plain = await cli(argv);
    expect(plain.code).toBe(2); // a data directory that is a file: bad input, typed (NotAJournal)
    expect(oneLineError(plain.stderr)).toBe(`episteme assert: ${data}/journal is not a journal directory: ${data} is not a directory`);
    expect(plain.stderr).not.toMatch(STACK_FRAME);
    const debug = await cli(['--debug', ...argv]);
    expect(debug.code).toBe(2);
    expect(debug.stderr.split('\n')[0]).toBe(plain.stderr.split('\n')[0]);
    expect(debug.stderr).toMatch(STACK_FRAME);
  });

  it('--json reports an error as one JSON document on stdout too', async () => {
    const r = await cli(['--data', tempDir(), '--json', 'assert', '--subject', 's', '--predicate', 'p', '--object', 'o', '--confidence', '1.5']);
    expect(r.code).toBe(2);
    const doc = json<{ error: { code: string; message: string; failures: { property: string }[] } }>(r.stdout);
    expect(doc.error.code).toBe('APP_VALIDATION_FAILED');
    expect(doc.error.failures.map((f) => f.property)).toEqual(['confidence']);
    // a command line that does not parse has a code of its own, as in episteme-wal
    const usage = await cli(['--data', tempDir(), '--json', 'assert', '--subject']);
    expect(usage.code).toBe(2);
    expect(json<{ error: { code: string } }>(usage.stdout).error.code).toBe('CLI_USAGE');
  });
});
