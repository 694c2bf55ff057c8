/**
 * Assertion ids: each names its assertion's stream. A retraction names one
 * that stands, an assertion never takes one that stands (the store's
 * expected versions refuse both in the writer, appending nothing), and the
 * beliefs projection stays right over a log that has a reused id anyway.
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyBelief, beliefsProjection, type BeliefsState, type SubjectBeliefs } from '../src/projections/beliefs.js';
import type { AppEvent } from '../src/projections/assertionEvents.js';
import { cli, json, removeTempDirs, snapshotTree, tempDir } from './cliHelpers.js';

afterAll(removeTempDirs);

const assertArgs = (subject: string, id: string) => ['assert', '--subject', subject, '--predicate', 'orbits', '--object', 'sun', '--id', id];

async function standingIds(data: string, subject: string): Promise<string[]> {
  const r = await cli(['--data', data, '--json', 'beliefs', subject]);
  expect(r.code, r.stderr).toBe(0);
  return json<SubjectBeliefs>(r.stdout).assertions.map((a) => a.id);
}

describe('assertion ids through the CLI', () => {
  it('retract takes an id that stands, once; assert --id takes a new id or one retracted', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('earth', 'e1')])).code).toBe(0);
    const refused = await cli(['--data', data, ...assertArgs('mars', 'e1')]);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(
      'episteme assert: id "e1" is already used by a standing assertion about "earth" (stream "assertion-e1": expected version no_stream, actual 1); nothing was appended: retract it first, or leave the id out (a new one is made)\n',
    );
    expect((await cli(['--data', data, 'retract', 'e1', '--reason', 'wrong subject'])).code).toBe(0);
    const before = snapshotTree(data);
    const again = await cli(['--data', data, 'retract', 'e1', '--reason', 'twice']);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toBe('episteme retract: assertion "e1" is already retracted (stream "assertion-e1" at version 2); nothing was appended\n');
    expect(snapshotTree(data)).toEqual(before);
    // retracted, the id may name a new assertion: appended to its stream after the retraction
    const taken = await cli(['--data', data, '--json', ...assertArgs('mars', 'e1')]);
    expect(taken.code).toBe(0);
    expect(json(taken.stdout)).toMatchObject({ id: 'e1', stream: 'assertion-e1', version: 3 });
    expect(await standingIds(data, 'earth')).toEqual([]);
    expect(await standingIds(data, 'mars')).toEqual(['e1']);
  });

  it('import reports a line whose id stands or came earlier in the input, by number, and appends the others', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('earth', 'taken')])).code).toBe(0);
    const line = (id: string | undefined, subject: string) => JSON.stringify({ ...(id ? { id } : {}), subject, predicate: 'p', object: 'o', confidence: 0.5, source: 's' });
    const file = join(tempDir(), 'ids.ndjson');
    writeFileSync(file, [line('new-1', 'mars'), line('taken', 'mars'), line('new-1', 'venus'), line(undefined, 'venus'), line('new-2', 'venus')].join('\n') + '\n');
    const r = await cli(['--data', data, 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'line 2: id "taken" is already used by a standing assertion about "earth" (stream "assertion-taken": expected version no_stream, actual 1); nothing was appended: retract it first, or leave the id out (a new one is made)',
      'line 3: id "new-1" is already used by an earlier line of this input: use another id, or leave it out (a new one is made)',
    ]);
    expect(r.stdout).toMatch(/^imported 3 assertions from 5 lines /);
    expect(await standingIds(data, 'earth')).toEqual(['taken']);
    expect(await standingIds(data, 'mars')).toEqual(['new-1']);
    expect((await standingIds(data, 'venus')).filter((id) => id === 'new-2')).toEqual(['new-2']);
    expect(await standingIds(data, 'venus')).toHaveLength(2);
  });
});

describe('ids, subjects and sources that are names of built-in object properties', () => {
  it('are plain keys: toString, constructor and __proto__ are asserted, listed, counted and retracted like any other', async () => {
    const data = tempDir();
    for (const [subject, id, source] of [['__proto__', 'toString', 'constructor'], ['constructor', '__proto__', 'toString'], ['earth', 'hasOwnProperty', '__proto__']]) {
      const r = await cli(['--data', data, 'assert', '--subject', subject!, '--predicate', 'valueOf', '--object', 'o', '--id', id!, '--source', source!]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await standingIds(data, '__proto__')).toEqual(['toString']);
    expect(await standingIds(data, 'constructor')).toEqual(['__proto__']);
    expect(await standingIds(data, 'toString')).toEqual([]);
    const stats = json<{ bySource: Record<string, number>; byPredicate: Record<string, number> }>((await cli(['--data', data, '--json', 'stats'])).stdout);
    expect(stats.bySource).toEqual({ constructor: 1, toString: 1, ['__proto__']: 1 });
    expect(stats.byPredicate).toEqual({ valueOf: 3 });
    // an id that never stood is refused even when it names a built-in property
    const never = await cli(['--data', data, 'retract', 'valueOf', '--reason', 'r']);
    expect(never.code, never.stderr).toBe(2);
    expect((await cli(['--data', data, 'assert', '--subject', 's', '--predicate', 'p', '--object', 'o', '--id', 'isPrototypeOf'])).code).toBe(0);
    for (const id of ['toString', '__proto__', 'hasOwnProperty']) expect((await cli(['--data', data, 'retract', id, '--reason', 'r'])).code, id).toBe(0);
    expect(await standingIds(data, '__proto__')).toEqual([]);
    expect(await standingIds(data, 'constructor')).toEqual([]);
    const after = await cli(['--data', data, '--json', 'beliefs', 'earth']);
    expect(after.code, after.stderr).toBe(0);
    // through a snapshot too (saved as JSON, loaded back into dictionaries)
    for (const p of ['beliefs', 'stats']) expect((await cli(['--data', data, 'projections', 'rebuild', p])).code, p).toBe(0);
    expect((await cli(['--data', data, 'assert', '--subject', '__proto__', '--predicate', 'p', '--object', 'o', '--id', 'valueOf', '--source', 'toString'])).code).toBe(0);
    expect(await standingIds(data, '__proto__')).toEqual(['valueOf']);
    expect(json<{ bySource: Record<string, number> }>((await cli(['--data', data, '--json', 'stats'])).stdout).bySource).toEqual({ constructor: 1, toString: 2, ['__proto__']: 1, cli: 1 });
  });

  it('a refused retract appends nothing; the writer it opened to check repaired a torn tail first, and said so', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('earth', 'e1')])).code).toBe(0);
    const journal = join(data, 'journal');
    const last = readdirSync(journal).filter((f) => f.endsWith('.wal')).sort().at(-1)!;
    const segment = join(journal, last);
    const records = readFileSync(segment);
    appendFileSync(segment, Buffer.alloc(17, 0x5a)); // half a record: what a crash mid-write leaves
    const r = await cli(['--data', data, 'retract', 'typo', '--reason', 'r']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    // the check is the writer's (the stream, read where the append would be): its open cut the torn tail, as any writer's does
    expect(r.stderr).toMatch(/^warning: journal recovery cut: /m);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('episteme retract: no assertion has id "typo" (stream "assertion-typo" does not exist); nothing was appended; `episteme beliefs <subject>` lists the ids');
    expect(readFileSync(segment).subarray(0, records.length)).toEqual(records);
    expect(json<{ head: number }>((await cli(['--data', data, '--json', 'wal', 'verify'])).stdout).head).toBe(records.length - 32);
  });
});

/** An assertion's first event, as the store hands it to the projection. */
function madeEvent(id: string, subject: string, globalPosition: number, object: string, confidence: number): AppEvent {
  return {
    type: 'AssertionMade',
    data: { id, subject, predicate: 'p', object, confidence, source: 's', assertedAt: '2026-01-01T00:00:00.000Z' },
    metadata: { producer: 't', schema: 1 },
    id: `e${globalPosition}`,
    stream: `assertion-${id}`,
    streamPosition: 1,
    globalPosition,
    recordedAt: new Date(0),
  } as AppEvent;
}

describe('the beliefs projection over a log with a reused id', () => {
  const made = (id: string, subject: string, globalPosition: number): AppEvent => madeEvent(id, subject, globalPosition, 'o', 1);
  const apply = (events: AppEvent[]): BeliefsState => events.reduce((s, e) => applyBelief(s, e), beliefsProjection.initialState());

  it('the later assertion replaces the earlier one under its old subject, and one retraction removes it', () => {
    const state = apply([made('x', 'earth', 0), made('x', 'mars', 10)]);
    expect(state.bySubject).toEqual(new Map([['mars', new Map([['x', expect.objectContaining({ id: 'x', globalPosition: 10 })]])]]));
    expect(state.subjectOf).toEqual(new Map([['x', 'mars']]));
    const retraction = { type: 'AssertionRetracted', data: { assertionId: 'x', reason: 'r', retractedAt: '2026-01-02T00:00:00.000Z' }, metadata: { producer: 't', schema: 1 }, id: 'e20', stream: 'assertion-x', streamPosition: 2, globalPosition: 20, recordedAt: new Date(0) } as AppEvent;
    const after = applyBelief(state, retraction);
    expect(after.bySubject).toEqual(new Map());
    expect(after.subjectOf).toEqual(new Map());
    expect(after.retracted).toBe(1);
  });

  it('a reuse under the same subject replaces in place', () => {
    const state = apply([made('x', 'earth', 0), made('y', 'earth', 5), made('x', 'earth', 10)]);
    expect([...state.bySubject.get('earth')!.keys()].sort()).toEqual(['x', 'y']);
    expect(state.bySubject.get('earth')!.get('x')!.globalPosition).toBe(10);
  });
});

describe("the beliefs projection's snapshot (version 5: rows)", () => {
  const made = (id: string, subject: string, globalPosition: number, confidence = 0.5): AppEvent => madeEvent(id, subject, globalPosition, `o-${id}`, confidence);
  const retraction = (id: string, globalPosition: number): AppEvent =>
    ({ type: 'AssertionRetracted', data: { assertionId: id, reason: 'r', retractedAt: '2026-01-02T00:00:00.000Z' }, metadata: { producer: 't', schema: 1 }, id: `e${globalPosition}`, stream: `assertion-${id}`, streamPosition: 2, globalPosition, recordedAt: new Date(0) }) as AppEvent;

  it('gives back, through JSON, the state it was taken of: every belief under its subject, the ids, the retractions, special names as plain keys', () => {
    const events = [
      made('__proto__', 'toString', 0, 0.25),
      made('constructor', 'toString', 10),
      made('x', 'earth', 20, 1),
      made('y', 'earth', 30, 0),
      made('x', 'mars', 40), // reused: moves to mars
      retraction('y', 50),
      retraction('nobody', 60), // unknown: ignored
    ];
    const state = events.reduce((s, e) => applyBelief(s, e), beliefsProjection.initialState());
    const restored = beliefsProjection.deserialize!(JSON.parse(JSON.stringify(beliefsProjection.serialize!(state)))) as BeliefsState;
    expect(restored).toEqual(state);
    expect(restored.subjectOf).toEqual(new Map([['__proto__', 'toString'], ['constructor', 'toString'], ['x', 'mars']]));
    expect(restored.retracted).toBe(1);
    // it goes on folding as the state it was taken of does
    const next = [made('z', 'earth', 70), retraction('x', 80)];
    expect(next.reduce((s, e) => applyBelief(s, e), restored)).toEqual(next.reduce((s, e) => applyBelief(s, e), state));
  });
});
