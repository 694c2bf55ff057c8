/**
 * The app's journal takes any bytes (`episteme-wal append` on it, another
 * program): its projections step over records that are not assertion
 * events, and the id checks of the write commands refuse to guess when the
 * beliefs projection cannot be caught up.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import type { SubjectBeliefs } from '../src/projections/beliefs.js';
import type { StatsState } from '../src/projections/stats.js';
import { cli, json, oneLineError, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

const FOREIGN = ['not an event', 'null', '123', '[1,2]', '{"type":"AssertionMade"}', '{"type":"AssertionMade","data":{"id":"x"}}', '{"type":"Other","data":{}}'];

describe('records that are not assertion events', () => {
  it('are stepped over: queries answer, stats counts them, and the id checks still work', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, 'assert', '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun', '--id', 'a1'])).code).toBe(0);
    const writer = await Journal.open({ dir: join(data, 'journal') });
    await writer.appendBatch(FOREIGN.map((s) => Buffer.from(s)));
    await writer.close();
    expect((await cli(['--data', data, 'assert', '--subject', 'earth', '--predicate', 'hasMoon', '--object', 'moon', '--id', 'a2'])).code).toBe(0);

    const beliefs = await cli(['--data', data, '--json', 'beliefs', 'earth']);
    expect(beliefs.code, beliefs.stderr).toBe(0);
    expect(json<SubjectBeliefs>(beliefs.stdout).assertions.map((b) => b.id).sort()).toEqual(['a1', 'a2']);
    const stats = await cli(['--data', data, '--json', 'stats']);
    expect(json<StatsState>(stats.stdout)).toMatchObject({ assertions: 2, retractions: 0, notAssertions: FOREIGN.length });
    expect((await cli(['--data', data, 'stats'])).stdout).toMatch(new RegExp(`^2 assertions, 0 retractions, ${FOREIGN.length} records that are not assertion events \\(skipped\\)`));

    expect((await cli(['--data', data, 'retract', 'x', '--reason', 'r'])).code).toBe(2); // "x" of a foreign record never stood
    expect((await cli(['--data', data, 'assert', '--subject', 's', '--predicate', 'p', '--object', 'o', '--id', 'a1'])).code).toBe(2);
    expect((await cli(['--data', data, 'retract', 'a1', '--reason', 'r'])).code).toBe(0);
  });
});

describe('when the assertion ids cannot be checked', () => {
  /** A data directory whose first segment was deleted (as cleanup does once every consumer passed it), with no snapshot of the beliefs projection. */
  async function historyDeleted(): Promise<{ data: string; laterId: string }> {
    const data = tempDir();
    const file = join(tempDir(), 'in.ndjson');
    // three imports, three batches: a batch is never split, so each one starts a segment of 1 KiB
    for (let k = 0; k < 3; k++) {
      writeFileSync(file, Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: `id-${4 * k + i}`, subject: 's', predicate: 'p', object: 'o', confidence: 1, source: 't' })).join('\n') + '\n');
      expect((await cli(['--data', data, '--segment-bytes', '1024', 'import', file])).code).toBe(0);
    }
    const journal = join(data, 'journal');
    const segments = readdirSync(journal).filter((n) => n.endsWith('.wal')).sort();
    expect(segments.length).toBeGreaterThan(2);
    rmSync(join(journal, segments[0]!));
    return { data, laterId: 'id-11' };
  }

  it('retract and assert --id are refused with exit 1 and a typed error, and nothing changes; an assertion without --id is appended', async () => {
    const { data, laterId } = await historyDeleted();
    const before = snapshotTree(data);
    for (const argv of [
      ['retract', laterId, '--reason', 'r'],
      ['assert', '--subject', 's', '--predicate', 'p', '--object', 'o', '--id', 'new-id'],
    ]) {
      const r = await cli(['--data', data, ...argv]);
      expect(r.code, r.stderr).toBe(1);
      expect(oneLineError(r.stderr)).toMatch(/cannot check assertion ids: projection "beliefs" failed \(.*\); nothing was appended/);
      const j = await cli(['--data', data, '--json', ...argv]);
      expect(json<{ error: { code: string } }>(j.stdout).error.code).toBe('APP_ID_CHECK_FAILED');
      expect(snapshotTree(data)).toEqual(before);
    }
    expect((await cli(['--data', data, 'assert', '--subject', 's', '--predicate', 'p', '--object', 'o'])).code).toBe(0);
    // a query cannot answer either: exit 1, never an answer from an empty state
    for (const query of [['beliefs', 's'], ['stats']]) {
      const r = await cli(['--data', data, '--json', ...query]);
      expect(r.code, r.stdout).toBe(1);
      expect(json<{ error: { code: string } }>(r.stdout).error.code).toBe('APP_PROJECTION_FAILED');
    }
    // and `projections list` says why, instead of "rebuilds on start"
    const listed = json<{ name: string; state: string }[]>((await cli(['--data', data, '--json', 'projections', 'list'])).stdout);
    expect(listed.map((p) => p.state)).toEqual([expect.stringMatching(/^no snapshot \(cannot rebuild: the records below \d+ were deleted\)$/), expect.stringMatching(/cannot rebuild/)]);
  });

  it('import reports each line with an id as not checked and skips it; lines without one are appended', async () => {
    const { data } = await historyDeleted();
    const file = join(tempDir(), 'in.ndjson');
    const line = (extra: object) => JSON.stringify({ subject: 's', predicate: 'p', object: 'o', confidence: 1, source: 't', ...extra });
    writeFileSync(file, [line({}), line({ id: 'with-id' }), line({})].join('\n') + '\n');
    const r = await cli(['--data', data, '--json', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^line 2: cannot check whether id "with-id" is in use: projection "beliefs" failed/m);
    expect(json<{ records: number; invalid: number }>(r.stdout)).toMatchObject({ records: 2, invalid: 1 });
  });
});
