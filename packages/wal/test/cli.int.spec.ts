import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/main.js';
import { Journal } from '../src/index.js';
import { encodeRecord, HEADER_SIZE, RECORD_OVERHEAD, segmentName } from '../src/internals.js';
import { copyVector, FIXTURES, payloadOf, snapshotDir, tempDir, writeJournal } from './helpers.js';

// In-process runs of every command; --json output is checked against cases.json.

interface VectorRecord {
  offset: number;
  payload_len: number;
  blake3: string;
  payload_hex: string;
}
const cases = (JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as {
  cases: Record<string, { records: VectorRecord[]; head: number; segments?: string[]; bad_offset?: number }>;
}).cases;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], io: Partial<CliIO> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    stderrIsTTY: false,
    ...io,
  });
  return { code, stdout, stderr };
}

interface DumpLine {
  offset: number;
  length: number;
  blake3: string;
  payload: string;
}
const jsonLines = (s: string): DumpLine[] => s.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as DumpLine);
const asVector = (l: DumpLine): VectorRecord => ({
  offset: l.offset,
  payload_len: l.length,
  blake3: l.blake3,
  payload_hex: Buffer.from(l.payload, 'base64').toString('hex'),
});
const vectorRecords = (name: string): VectorRecord[] =>
  cases[name]!.records.map(({ offset, payload_len, blake3, payload_hex }) => ({ offset, payload_len, blake3, payload_hex }));
const expectOneLine = (s: string): void => expect(s).toMatch(/^[^\n]+\n$/);

describe('episteme-wal segments', () => {
  it('lists name, base and size of every segment (--json)', async () => {
    const dir = copyVector('rotated');
    const r = await cli(['segments', dir, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { segments: Array<{ name: string; base: number; size: number }> };
    expect(doc.segments.map((s) => s.name)).toEqual(cases.rotated!.segments);
    expect(doc.segments.map((s) => s.base)).toEqual([0, 110, 180]);
    expect(doc.segments.map((s) => s.size)).toEqual(doc.segments.map((s) => statSync(join(dir, s.name)).size));
  });

  it('prints a table by default', async () => {
    const r = await cli(['segments', copyVector('basic')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+BASE\s+SIZE$/);
    expect(r.stdout).toMatch(/^0000000000000000\.wal\s+0\s+1690$/m);
  });
});

describe('episteme-wal dump', () => {
  it('--json of basic gives exactly the offsets, digests and payloads of cases.json', async () => {
    const r = await cli(['dump', join(FIXTURES, 'basic'), '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(r.stdout).map(asVector)).toEqual(vectorRecords('basic'));
  });

  it('walks across segments with global offsets (rotated)', async () => {
    const r = await cli(['dump', join(FIXTURES, 'rotated'), '--json']);
    expect(jsonLines(r.stdout).map(asVector)).toEqual(vectorRecords('rotated'));
  });

  it('human mode: a header and one line per record with a printable preview', async () => {
    const r = await cli(['dump', join(FIXTURES, 'basic')]);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + cases.basic!.records.length);
    expect(lines[2]).toMatch(/^\s+40\s+5\s+ea8f163db3868292\s+hello$/);
    expect(lines[4]).toContain('{"type":"AssertionMade"');
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });

  it.each([
    ['basic', ['--from', '85', '--limit', '2'], [85, 425]],
    ['basic', ['--from=425'], [425, 561, 618]],
    ['basic', ['--from', '1658'], []],
    ['basic', ['--limit', '0'], []],
    ['basic', ['--limit', '100'], [0, 40, 85, 425, 561, 618]],
    ['rotated', ['--from', '110'], [110, 180, 225, 265]],
    ['rotated', ['--from', '50', '--limit', '3'], [50, 110, 180]],
    ['rotated', ['--from', '225', '--limit', '1'], [225]],
    ['rotated', ['--from', '312'], []],
  ])('%s %j', async (name, flags, offsets) => {
    const r = await cli(['dump', join(FIXTURES, name), '--json', ...flags]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(r.stdout).map((l) => l.offset)).toEqual(offsets);
  });

  it('stops at a torn tail with a note on stderr (with --json too: stdout stays one record a line); changes nothing', async () => {
    const dir = copyVector('torn-tail');
    const before = snapshotDir(dir);
    const json = await cli(['dump', dir, '--json']);
    expect(json.code).toBe(0);
    expect(jsonLines(json.stdout).map(asVector)).toEqual(vectorRecords('torn-tail'));
    expectOneLine(json.stderr);
    expect(json.stderr).toMatch(/^note: the log ends at offset 86: .*file position 118 \(torn-payload\)/);
    const text = await cli(['dump', dir]);
    expect(text.code).toBe(0);
    expectOneLine(text.stderr);
    expect(text.stderr).toMatch(/^note: the log ends at offset 86: .*file position 118 \(torn-payload\)/);
    expect((await cli(['dump', dir, '--json', '--from', '86'])).stdout).toBe('');
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('stops at damage in a sealed segment; --from past it starts in the next segment', async () => {
    const dir = copyVector('sealed-corrupt');
    const before = snapshotDir(dir);
    const r = await cli(['dump', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^note: stopped at offset 90: sealed segment 0000000000000000\.wal is damaged at file position 122/);
    const later = await cli(['dump', dir, '--json', '--from', '180']);
    expect(jsonLines(later.stdout).map((l) => l.offset)).toEqual([180]);
    const across = await cli(['dump', dir, '--json', '--from', '135']);
    expect(across.code).toBe(1);
    const { error } = JSON.parse(across.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('WAL_CORRUPT_RECORD');
    expect(across.stderr).toBe(`episteme-wal dump: ${error.message}\n`); // the operator's line beside the script's document
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('stops before a segment with a torn header, and on an empty journal prints nothing', async () => {
    const torn = await cli(['dump', join(FIXTURES, 'torn-segment-create'), '--json']);
    expect(jsonLines(torn.stdout).map((l) => l.offset)).toEqual([0]);
    const note = await cli(['dump', join(FIXTURES, 'torn-segment-create')]);
    expect(note.stderr).toMatch(/^note: the log stops at offset 44: 000000000000002c\.wal has a bad header/);
    expect(await cli(['dump', join(FIXTURES, 'empty'), '--json'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a log that no longer starts at 0: offsets below the earliest are out of range', async () => {
    const dir = tempDir();
    const { offsets, head } = writeJournal(dir, [[payloadOf(1, 10), payloadOf(2, 20)], [payloadOf(3, 30)]], 1000);
    const all = await cli(['dump', dir, '--json']);
    expect(jsonLines(all.stdout).map((l) => l.offset)).toEqual(offsets);
    const low = await cli(['dump', dir, '--from', '0']);
    expect(low).toMatchObject({ code: 2, stdout: '', stderr: `episteme-wal dump: offset 0 is outside the retained log [1000, ${head}]\n` });
  });

  it('stops at a gap between segments with a note', async () => {
    const dir = tempDir();
    const { names, offsets } = writeJournal(dir, [[payloadOf(1, 10)], [payloadOf(2, 10)], [payloadOf(3, 10)]]);
    rmSync(join(dir, names[1]!));
    const r = await cli(['dump', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^note: the log stops at offset 50: 0000000000000064\.wal starts at 100 \(a gap\)/);
    expect(jsonLines((await cli(['dump', dir, '--json', '--from', String(offsets[2])])).stdout)).toHaveLength(1);
  });

  it('says so when --from lies past a gap (a note) or inside it (exit 1, WAL_SEGMENT_GAP); segments notes the gap; nothing changed', async () => {
    const dir = tempDir();
    const { names, offsets } = writeJournal(dir, [[payloadOf(1, 10)], [payloadOf(2, 10)], [payloadOf(3, 10)]]);
    rmSync(join(dir, names[1]!));
    const before = snapshotDir(dir);
    const gap = /gap: 0000000000000000\.wal ends at offset 50, 0000000000000064\.wal starts at 100 \(a segment file is missing or was cut short\); `episteme-wal verify` lists the damage/;
    const past = await cli(['dump', dir, '--from', String(offsets[2])]);
    expect(past.code).toBe(0);
    expect(past.stdout.trimEnd().split('\n')).toHaveLength(2); // the header and the record at 100
    expect(past.stderr).toMatch(new RegExp(`^note: the log before offset 100 is not whole: ${gap.source}\n$`));
    for (const inside of [50, 75]) {
      const r = await cli(['dump', dir, '--from', String(inside)]);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toMatch(new RegExp(`^episteme-wal dump: offset ${inside} is in a hole of the log: ${gap.source}\n$`));
      expect(JSON.parse((await cli(['dump', dir, '--from', String(inside), '--json'])).stdout)).toMatchObject({ error: { code: 'WAL_SEGMENT_GAP' } });
    }
    const listed = await cli(['segments', dir]);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(new RegExp(`^note: ${gap.source}\n$`));
    expect((await cli(['segments', copyVector('rotated')])).stderr).toBe('');
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('--max-payload-bytes is the limit records are checked against', async () => {
    // a valid record over the limit is not damage: both say which limit reads it, as recover does (exit 2)
    const strict = await cli(['verify', join(FIXTURES, 'basic'), '--json', '--max-payload-bytes', '100']);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/holds a valid record of \d+ payload bytes at file position \d+ \(offset 85\), more than maxPayloadBytes \(100\); nothing was changed; reopen with maxPayloadBytes \(CLI: --max-payload-bytes\) of at least/);
    const dump = await cli(['dump', join(FIXTURES, 'basic'), '--json', '--max-payload-bytes=100']);
    expect(dump.code).toBe(2);
    // the records before it, then the error as the stream's last document
    const lines = dump.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { offset?: number; error?: { code: string } });
    expect(lines.map((l) => l.offset ?? l.error?.code)).toEqual([0, 40, 'WAL_MAX_PAYLOAD_TOO_SMALL']);
    expect(dump.stderr).toMatch(/holds a valid record .*\(offset 85\)/);
    expect((await cli(['verify', join(FIXTURES, 'basic'), '--max-payload-bytes', '1000'])).code).toBe(0);
  });

  it('streams: pauses while stdout asks to wait and resumes at the next record', async () => {
    const dir = tempDir();
    const segments = [0, 1, 2].map((s) => Array.from({ length: 400 }, (_, i) => payloadOf(s * 1000 + i, 150 + (i % 50))));
    const { offsets } = writeJournal(dir, segments);
    let stdout = '';
    let writes = 0;
    const code = await runCli(['dump', dir, '--json'], {
      stdout: (s) => {
        stdout += s;
        writes++;
        return new Promise((resolve) => setImmediate(resolve));
      },
      stderr: () => {},
      stderrIsTTY: false,
    });
    expect(code).toBe(0);
    expect(writes).toBeGreaterThan(3);
    const lines = jsonLines(stdout);
    expect(lines.map((l) => l.offset)).toEqual(offsets);
    const payloads = segments.flat();
    lines.forEach((l, i) => expect(Buffer.from(l.payload, 'base64').equals(payloads[i]!)).toBe(true));
  });
});

describe('episteme-wal verify', () => {
  it('exit 0 and {"ok":true,...} on clean journals', async () => {
    for (const name of ['basic', 'rotated', 'empty']) {
      const r = await cli(['verify', join(FIXTURES, name), '--json']);
      expect(r.code, name).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, head: cases[name]!.head, recordsVerified: cases[name]!.records.length, problems: [] });
    }
    const text = await cli(['verify', join(FIXTURES, 'rotated')]);
    expect(text.stdout).toBe('ok: 3 segments, 6 records (312 B) verified; offsets [0, 312]\n');
  });

  it('a problem at or past the head the writer published is flagged as a possible write in progress; one below it is not', async () => {
    const dir = tempDir();
    const journal = await Journal.open({ dir, preallocateBytes: 0 });
    for (const t of ['one', 'two', 'three']) await journal.append(Buffer.from(t));
    const head = journal.head;
    await journal.close();
    const segment = join(dir, segmentName(0));
    // half a record after the head: what a reader sees while a writer's write is under way
    appendFileSync(segment, encodeRecord(Buffer.from('four')).subarray(0, 20));
    const text = await cli(['verify', dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`^problem: .*\\(offset ${head}\\): torn-header.* \\(at or past the head the writer had published, ${head}: a write in progress if a writer is running; verify again\\)\n`));
    const asJson = JSON.parse((await cli(['verify', dir, '--json'])).stdout) as { problems: Array<{ offset: number; pastPublishedHead?: boolean }> };
    expect(asJson.problems).toEqual([expect.objectContaining({ offset: head, pastPublishedHead: true })]);
    // damage the writer had acknowledged: no such words
    const bytes = readFileSync(segment);
    bytes[HEADER_SIZE + RECORD_OVERHEAD]! ^= 0xff;
    writeFileSync(segment, bytes);
    const damaged = await cli(['verify', dir]);
    expect(damaged.stdout).toMatch(/^problem: .*\(offset 0\): crc-mismatch/);
    expect(damaged.stdout).not.toContain('write in progress');
    expect((JSON.parse((await cli(['verify', dir, '--json'])).stdout) as { problems: object[] }).problems[0]).not.toHaveProperty('pastPublishedHead');
  });

  it('exit 1 with every problem listed; changes nothing', async () => {
    const dir = copyVector('sealed-corrupt');
    const before = snapshotDir(dir);
    const r = await cli(['verify', dir, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; problems: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ segment: '0000000000000000.wal', position: 122, offset: cases['sealed-corrupt']!.bad_offset }),
    ]);
    const text = await cli(['verify', dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^problem: 0000000000000000\.wal at file position 122 \(offset 90\)/);
    expect(text.stdout).toMatch(/^FAILED: 1 problem;/m);
    const torn = await cli(['verify', join(FIXTURES, 'torn-tail'), '--json']);
    expect(torn.code).toBe(1);
    expect(JSON.parse(torn.stdout).problems[0]).toMatchObject({ position: 118, offset: 86, reason: 'torn-payload' });
    expect(snapshotDir(dir)).toEqual(before);
  });
});

describe('episteme-wal recover', () => {
  it('clean journal: exit 0, no cut, nothing changed', async () => {
    const dir = copyVector('basic');
    const before = snapshotDir(dir);
    const r = await cli(['recover', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ head: 1658, cuts: [], repaired: false });
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('torn-tail: reports the cut and quarantines the 49 bytes', async () => {
    const dir = copyVector('torn-tail');
    const original = readFileSync(join(dir, '0000000000000000.wal'));
    const r = await cli(['recover', dir, '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as { head: number; cuts: Array<Record<string, unknown>> };
    expect(report.head).toBe(cases['torn-tail']!.head);
    expect(report.cuts).toEqual([
      {
        segment: '0000000000000000.wal',
        position: 118,
        offset: 86,
        reason: 'torn-payload',
        bytes: 49,
        quarantine: expect.stringMatching(/^quarantine\/0000000000000000\.0000000000000076\.\d+\.bin$/),
        wellFormedRecordsInCut: 0,
      },
    ]);
    expect(readFileSync(join(dir, report.cuts[0]!.quarantine as string)).equals(original.subarray(118))).toBe(true);
    expect(statSync(join(dir, '0000000000000000.wal')).size).toBe(118);
    const again = await cli(['recover', dir]);
    expect(again.stdout).toBe('ok: head 86, earliest 0; 1 segment, 2 records (86 B) verified; nothing cut\n');
  });

  it('human mode describes each cut', async () => {
    const r = await cli(['recover', copyVector('torn-segment-create')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cut: 000000000000002c\.wal at file position 0 \(offset 44\): bad-segment-header; 11 bytes moved to quarantine\//);
    expect(r.stdout).toMatch(/^ok: head 44,/m);
  });

  it('sealed-corrupt: exit 1 with WAL_QUARANTINE and no change; --repair then fixes it', async () => {
    const dir = copyVector('sealed-corrupt');
    const before = snapshotDir(dir);
    const json = await cli(['recover', dir, '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(/^episteme-wal recover: sealed segment 0000000000000000\.wal is damaged at file position 122[^\n]*\n$/);
    expect(JSON.parse(json.stdout)).toEqual({
      error: expect.objectContaining({ code: 'WAL_QUARANTINE', message: expect.stringContaining('--repair'), segment: '0000000000000000.wal', position: 122, offset: 90 }),
    });
    const text = await cli(['recover', dir]);
    expect(text).toMatchObject({ code: 1, stdout: '' });
    expectOneLine(text.stderr);
    expect(text.stderr).toMatch(/^episteme-wal recover: sealed segment 0000000000000000\.wal is damaged at file position 122/);
    expect(snapshotDir(dir)).toEqual(before);

    const repaired = await cli(['recover', dir, '--repair', '--json']);
    expect(repaired.code).toBe(0);
    const report = JSON.parse(repaired.stdout) as { head: number; repaired: boolean; cuts: Array<{ segment: string; offset: number }> };
    expect(report).toMatchObject({ head: 90, repaired: true });
    expect(report.cuts.map((c) => [c.segment, c.offset])).toEqual([['0000000000000000.wal', 90], ['00000000000000b4.wal', 180]]);
    expect((await cli(['verify', dir])).code).toBe(0);
    expect(readdirSync(join(dir, 'quarantine'))).toHaveLength(2);
  });
});
