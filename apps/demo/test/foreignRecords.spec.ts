/**
 * The app's journal is an event store's: every record a commit. A record
 * written into it by another program (`episteme-wal append`, a program of
 * its own) is not one: the queries step over it (stats counts it), and the
 * store's writer refuses to open the journal (STORE_CORRUPT_COMMIT, naming
 * the record), changing nothing. A log whose beginning is gone cannot be
 * projected: the queries say so instead of answering from part of it.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import type { SubjectBeliefs } from '../src/projections/beliefs.js';
import type { StatsState } from '../src/projections/stats.js';
import { cli, json, oneLineError, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

const FOREIGN = ['not an event', 'null', '123', '[1,2]', '{"type":"AssertionMade"}', '{"type":"AssertionMade","data":{"id":"x"}}', 'ES but not a commit'];

describe('records that are not event store commits', () => {
  it('are stepped over by the queries (stats counts them); the writer refuses to open the journal, naming the first one, and changes nothing', async () => {
    const data = tempDir();
    for (const id of ['a1', 'a2']) expect((await cli(['--data', data, 'assert', '--subject', 'earth', '--predicate', 'orbits', '--object', id, '--id', id])).code).toBe(0);
    const writer = await Journal.open({ dir: join(data, 'journal') });
    const [first] = await writer.appendBatch(FOREIGN.map((s) => Buffer.from(s)));
    await writer.close();

    const beliefs = await cli(['--data', data, '--json', 'beliefs', 'earth']);
    expect(beliefs.code, beliefs.stderr).toBe(0);
    expect(json<SubjectBeliefs>(beliefs.stdout).assertions.map((b) => b.id).sort()).toEqual(['a1', 'a2']);
    const stats = await cli(['--data', data, '--json', 'stats']);
    expect(json<StatsState>(stats.stdout)).toMatchObject({ assertions: 2, retractions: 0, notAssertions: FOREIGN.length });
    expect((await cli(['--data', data, 'stats'])).stdout).toMatch(new RegExp(`^2 assertions, 0 retractions, ${FOREIGN.length} records that are not assertion events \\(skipped\\)`));
    // the streams are read with the store's index, which has no place for them: refused, typed
    const listed = await cli(['--data', data, 'streams', 'list']);
    expect(listed.code).toBe(1);
    expect(oneLineError(listed.stderr)).toBe(`episteme streams list: the record at log position ${first!.offset} is not a valid commit: no store header`);

    const before = snapshotTree(data);
    for (const argv of [['retract', 'a1', '--reason', 'r'], ['assert', '--subject', 's', '--predicate', 'p', '--object', 'o']]) {
      const r = await cli(['--data', data, ...argv]);
      expect(r.code, r.stderr).toBe(1);
      expect(oneLineError(r.stderr)).toBe(`episteme ${argv[0]}: the record at log position ${first!.offset} is not a valid commit: no store header`);
      const j = await cli(['--data', data, '--json', ...argv]);
      expect(json<{ error: { code: string } }>(j.stdout).error.code).toBe('STORE_CORRUPT_COMMIT');
    }
    expect(snapshotTree(data)).toEqual(before);
  });
});

describe('a log whose beginning is gone', () => {
  it('cannot be projected: the queries exit 1 (APP_PROJECTION_FAILED) and projections list says it cannot rebuild', async () => {
    const data = tempDir();
    const file = join(tempDir(), 'in.ndjson');
    for (let k = 0; k < 3; k++) {
      writeFileSync(file, Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `id-${8 * k + i}`, subject: 's', predicate: 'p', object: 'o', confidence: 1, source: 't' })).join('\n') + '\n');
      expect((await cli(['--data', data, '--segment-bytes', '1024', 'import', file])).code).toBe(0);
    }
    const journal = join(data, 'journal');
    const segments = readdirSync(journal).filter((n) => n.endsWith('.wal')).sort();
    expect(segments.length).toBeGreaterThan(2);
    rmSync(join(journal, segments[0]!)); // no cleanup under the store: only a hand could do this
    for (const query of [['beliefs', 's'], ['stats']]) {
      const r = await cli(['--data', data, '--json', ...query]);
      expect(r.code, r.stdout).toBe(1);
      expect(json<{ error: { code: string } }>(r.stdout).error.code).toBe('APP_PROJECTION_FAILED');
    }
    const listed = json<{ name: string; state: string }[]>((await cli(['--data', data, '--json', 'projections', 'list'])).stdout);
    expect(listed.map((p) => p.state)).toEqual([expect.stringMatching(/^no snapshot \(cannot rebuild: the records below \d+ were deleted\)$/), expect.stringMatching(/cannot rebuild/)]);
  });
});
