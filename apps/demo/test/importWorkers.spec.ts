import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventDecoder } from '@episteme/store';
import { Journal } from '@episteme/wal';
import { cli, json, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterAll(removeTempDirs);

/**
 * An input past the pool's start-up threshold (2000 lines), with every kind
 * of line spread through it: invalid JSON, a failed constraint, bytes that
 * are not UTF-8, blank lines, an id repeated far from its first use. Every
 * valid line names its id and time, so that the records do not depend on
 * which thread prepared them.
 */
function input(lines: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 1; i <= lines; i++) {
    let line: string | Buffer;
    if (i % 97 === 0) line = '{"subject": "torn';
    else if (i % 89 === 0) line = JSON.stringify({ subject: 's', predicate: 'p', object: 'o', confidence: 7, source: 'x', id: `id-${i}` });
    else if (i % 83 === 0) line = Buffer.from([0x7b, 0xe9, 0x7d]); // Latin-1 "é" between braces
    else if (i % 79 === 0) line = '   ';
    else {
      const id = i % 1009 === 0 ? 'id-7' : `id-${i}`; // id-7 is used by line 7 already
      line = JSON.stringify({ subject: `s${i % 41}`, predicate: `p${i % 6}`, object: `o${i}`, confidence: (i % 10) / 10, source: 'bulk', id, assertedAt: '2026-11-24T12:00:00.000Z' });
    }
    parts.push(typeof line === 'string' ? Buffer.from(line) : line, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** The events of the log, in order, without what differs from one run to the next (generated event ids, the time of each commit). */
async function payloads(data: string): Promise<string[]> {
  const journal = await Journal.openForRead({ dir: join(data, 'journal') });
  const decoder = createEventDecoder();
  try {
    const out: string[] = [];
    for await (const r of journal.readFrom(journal.earliest)) {
      for (const { stream, streamPosition, type, data, metadata } of decoder.eventsOf(r)) out.push(JSON.stringify({ stream, streamPosition, type, data, metadata }));
    }
    return out;
  } finally {
    await journal.close();
  }
}

describe('import with worker threads', () => {
  it('appends the same records and reports the same lines, in the same order, as an import on one thread', { timeout: 60_000 }, async () => {
    const file = join(tempDir(), 'bulk.ndjson');
    writeFileSync(file, input(30_000)); // long enough for the workers to load and take part (about half a second from sources)
    const one = tempDir();
    const two = tempDir();
    const a = await cli(['--data', one, '--json', 'import', '--workers', '0', file]);
    const b = await cli(['--data', two, '--json', 'import', '--workers', '2', file]);
    expect(a.code).toBe(1); // invalid lines were skipped
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(a.stderr);
    const { seconds: _s1, mbPerSecond: _m1, ...summaryA } = json<Record<string, unknown>>(a.stdout);
    const { seconds: _s2, mbPerSecond: _m2, ...summaryB } = json<Record<string, unknown>>(b.stdout);
    expect(summaryB).toEqual(summaryA);
    const reasons = new Set(a.stderr.trim().split('\n').map((l) => l.replace(/^line \d+: /, '').slice(0, 10)));
    expect(reasons).toEqual(new Set(['not JSON (', 'invalid as', 'not UTF-8 ', 'id "id-7" ']));
    const records = await payloads(one);
    expect(records.length).toBe(summaryA.records);
    expect(await payloads(two)).toEqual(records);
  });

  it('a line whose event is over the payload limit (the line itself is not) stops the import at its batch with the store\'s error, with or without workers', { timeout: 60_000 }, async () => {
    const file = join(tempDir(), 'big.ndjson');
    const lines = Array.from({ length: 6000 }, (_, i) =>
      JSON.stringify({ subject: i === 4500 ? 'x'.repeat(420) : `s${i}`, predicate: 'p', object: 'o', confidence: 0.5, source: 'bulk' }),
    );
    writeFileSync(file, lines.join('\n') + '\n');
    const runs = [];
    for (const workers of ['0', '1']) {
      const data = tempDir();
      const r = await cli(['--data', data, '--max-payload-bytes', '600', 'import', '--workers', workers, file]);
      runs.push({ code: r.code, stderr: r.stderr.replace(/assertion-[0-9a-f-]{36}/, 'assertion-<id>'), records: (await payloads(data)).length });
    }
    // the batches before the line's are in (lines 1-4000), nothing of its batch, nothing after
    expect(runs[0]).toEqual({ code: 2, stderr: expect.stringMatching(/encodes to \d+ bytes, over the journal's maxPayloadBytes \(600\)/), records: 4000 });
    expect(runs[1]).toEqual(runs[0]);
  });

  it('--workers out of range is a usage error that creates nothing', async () => {
    const data = join(tempDir(), 'absent');
    const file = join(tempDir(), 'one.ndjson');
    writeFileSync(file, input(1));
    for (const n of ['-1', '17', 'two']) {
      const r = await cli(['--data', data, 'import', '--workers', n, file]);
      expect(r.code, n).toBe(2);
      expect(r.stderr).toMatch(/--workers/);
    }
    expect(snapshotTree(data)).toBeNull();
  });
});
