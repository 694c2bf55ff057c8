/**
 * `episteme streams list|show`: the event store's streams, read through a
 * reader (no writer lock, no file written), so they answer while a writer
 * runs; bad input is a typed refusal (exit 2) that changes nothing.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStore } from '@episteme/store';
import { checkpointPath } from '@episteme/store/internals';
import { cli, json, oneLineError, removeTempDirs, snapshotTree, STACK_FRAME, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

interface Row {
  stream: string;
  version: number;
  deleted: boolean;
  lastGlobalPosition: number | null;
}
interface Shown extends Row {
  events: { streamPosition: number; globalPosition: number; type: string; recordedAt: string; id: string; data?: Record<string, unknown>; dataBase64?: string; metadata: unknown }[];
}

const assertArgs = (id: string, subject = 'earth') => ['assert', '--subject', subject, '--predicate', 'orbits', '--object', 'sun', '--id', id];

async function list(data: string, ...flags: string[]): Promise<Row[]> {
  const r = await cli(['--data', data, '--json', 'streams', 'list', ...flags]);
  expect(r.code, r.stderr).toBe(0);
  return json<Row[]>(r.stdout);
}

describe('streams list and show', () => {
  it('list: every stream by name with its version and last global position (--prefix: a category); show: its events', async () => {
    const data = tempDir();
    const positions: number[] = [];
    for (const id of ['b', 'a', 'c']) positions.push(json<{ globalPosition: number }>((await cli(['--data', data, '--json', ...assertArgs(id)])).stdout).globalPosition);
    const retraction = await cli(['--data', data, '--json', 'retract', 'a', '--reason', 'no']);
    const retractedAt = json<{ globalPosition: number }>(retraction.stdout).globalPosition;
    expect(await list(data)).toEqual([
      { stream: 'assertion-a', version: 2, deleted: false, lastGlobalPosition: retractedAt },
      { stream: 'assertion-b', version: 1, deleted: false, lastGlobalPosition: positions[0] },
      { stream: 'assertion-c', version: 1, deleted: false, lastGlobalPosition: positions[2] },
    ]);
    expect((await list(data, '--prefix', 'assertion-a')).map((r) => r.stream)).toEqual(['assertion-a']);
    expect(await list(data, '--prefix', 'order-')).toEqual([]);
    const text = await cli(['--data', data, 'streams', 'list']);
    expect(text.stdout.split('\n').slice(0, 2)).toEqual([expect.stringMatching(/^stream\s+version\s+deleted\s+last global position$/), expect.stringMatching(new RegExp(`^assertion-a\\s+2\\s+no\\s+${retractedAt}$`))]);
    expect((await cli(['--data', data, 'streams', 'list', '--prefix', 'order-'])).stdout).toBe('no streams start with "order-"\n');

    const r = await cli(['--data', data, '--json', 'streams', 'show', 'assertion-a']);
    expect(r.code, r.stderr).toBe(0);
    const shown = json<Shown>(r.stdout);
    expect(shown).toMatchObject({ stream: 'assertion-a', version: 2, deleted: false, lastGlobalPosition: retractedAt });
    expect(shown.events.map((e) => [e.streamPosition, e.globalPosition, e.type])).toEqual([
      [1, positions[1], 'AssertionMade'],
      [2, retractedAt, 'AssertionRetracted'],
    ]);
    expect(shown.events[0]).toMatchObject({ data: { id: 'a', subject: 'earth' }, metadata: { producer: 'cli', schema: 1 }, id: expect.any(String) });
    expect(Date.parse(shown.events[1]!.recordedAt)).not.toBeNaN();
    const shownText = await cli(['--data', data, 'streams', 'show', 'assertion-a']);
    const lines = shownText.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`stream assertion-a: version 2, last global position ${retractedAt}`);
    expect(lines[1]).toMatch(/^position\s+global position\s+type\s+time\s+id\s+data$/);
    expect(lines[3]).toMatch(new RegExp(`^2\\s+${retractedAt}\\s+AssertionRetracted\\s+\\S+Z\\s+\\S+\\s+\\{"assertionId":"a","reason":"no",`));
  });

  it('answer while a writer holds the journal (its published commits), and write no file', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('first')])).code).toBe(0);
    const store = await openEventStore({ dir: join(data, 'journal') });
    try {
      // a commit after the index checkpoint, of another category, with bytes data
      await store.appendToStream('order-7', [{ type: 'Placed', data: { total: 3 } }, { type: 'Blob', data: new Uint8Array([1, 2, 3]) }]);
      const before = snapshotTree(data);
      expect(await list(data)).toEqual([
        expect.objectContaining({ stream: 'assertion-first', version: 1 }),
        expect.objectContaining({ stream: 'order-7', version: 2 }),
      ]);
      const shown = json<Shown>((await cli(['--data', data, '--json', 'streams', 'show', 'order-7'])).stdout);
      expect(shown.events.map((e) => [e.type, e.data ?? e.dataBase64])).toEqual([
        ['Placed', { total: 3 }],
        ['Blob', 'AQID'],
      ]);
      expect(snapshotTree(data)).toEqual(before);
      await store.deleteStream('order-7');
      const deleted = snapshotTree(data);
      expect((await list(data, '--prefix', 'order-'))[0]).toEqual({ stream: 'order-7', version: 0, deleted: true, lastGlobalPosition: null });
      expect((await cli(['--data', data, 'streams', 'show', 'order-7'])).stdout).toBe('stream order-7: deleted (its events stay in the log until cleanup, hidden from reads)\n');
      expect(snapshotTree(data)).toEqual(deleted);
    } finally {
      await store.close();
    }
    // without the index checkpoint (deleted, or never written): the whole log is read, and still nothing is written
    rmSync(checkpointPath(join(data, 'journal')));
    const before = snapshotTree(data);
    expect((await list(data)).map((r) => [r.stream, r.version, r.deleted])).toEqual([
      ['assertion-first', 1, false],
      ['order-7', 0, true],
    ]);
    expect(snapshotTree(data)).toEqual(before);
  });

  it('bad input: an unknown stream, an invalid name, a bad prefix, a missing data directory: exit 2, one line, nothing changed', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('a1')])).code).toBe(0);
    const before = snapshotTree(data);
    const cases: [string[], RegExp, string][] = [
      [['streams', 'show', 'assertion-zz'], /^episteme streams show: stream "assertion-zz" does not exist$/, 'STORE_STREAM_NOT_FOUND'],
      [['streams', 'show', 'bad name'], /^episteme streams show: invalid stream name "bad name": only letters, digits/, 'STORE_INVALID_STREAM_NAME'],
      [['streams', 'show', '$all'], /invalid stream name "\$all"/, 'STORE_INVALID_STREAM_NAME'],
      [['streams', 'show', 'x'.repeat(201)], /longer than 200 characters/, 'STORE_INVALID_STREAM_NAME'],
      [['streams', 'show'], /missing argument <stream>/, 'CLI_USAGE'],
      [['streams', 'list', '--prefix', 'a b'], /^episteme streams list: --prefix "a b" cannot begin a stream name: only letters/, 'CLI_USAGE'],
      [['streams', 'list', '--prefix', ''], /--prefix "" cannot begin a stream name/, 'CLI_USAGE'],
      [['streams', 'list', 'extra'], /unexpected argument "extra"/, 'CLI_USAGE'],
      [['streams', 'rename'], /^episteme: streams has no command "rename"; one of: list, show/, 'CLI_USAGE'],
    ];
    for (const [argv, message, code] of cases) {
      const r = await cli(['--data', data, ...argv]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(oneLineError(r.stderr)).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      const j = await cli(['--data', data, '--json', ...argv]);
      expect(json<{ error: { code: string } }>(j.stdout).error.code, argv.join(' ')).toBe(code);
    }
    expect(snapshotTree(data)).toEqual(before);
    const missing = join(tempDir(), 'none');
    const r = await cli(['--data', missing, 'streams', 'list']);
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(/not a journal directory/);
    expect(snapshotTree(missing)).toBeNull();
  });
});
