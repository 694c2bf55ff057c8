import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdempotencyWindow } from '../src/idempotencyWindow.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/index/checkpoint.js';
import { StreamIndex } from '../src/index/streamIndex.js';

type Op = { stream: number; count: number } | { stream: number; tombstone: true };

/** A plain model: per stream, its commits since (re)creation. */
function model(ops: Op[]): Map<string, { deleted: boolean; commits: Array<[number, number, number]> }> {
  const m = new Map<string, { deleted: boolean; commits: Array<[number, number, number]> }>();
  ops.forEach((op, k) => {
    const name = `s${op.stream}`;
    const e = m.get(name) ?? { deleted: false, commits: [] };
    m.set(name, e);
    if ('tombstone' in op) {
      e.deleted = true;
      e.commits = [];
    } else {
      if (e.deleted) e.deleted = false;
      const last = e.commits[e.commits.length - 1];
      e.commits.push([k * 100, last ? last[1] + last[2] : 1, op.count]);
    }
  });
  return m;
}

const ops = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ stream: fc.integer({ min: 0, max: 6 }), count: fc.integer({ min: 1, max: 5 }) }) },
    { weight: 1, arbitrary: fc.record({ stream: fc.integer({ min: 0, max: 6 }), tombstone: fc.constant(true as const) }) },
  ),
  { maxLength: 200 },
);

function build(list: Op[]): StreamIndex {
  const index = new StreamIndex();
  const versions = new Map<number, number>();
  list.forEach((op, k) => {
    if ('tombstone' in op) {
      index.applyTombstone(`s${op.stream}`);
      versions.set(op.stream, 0);
    } else {
      const v = versions.get(op.stream) ?? 0;
      index.applyCommit(`s${op.stream}`, k * 100, v + 1, op.count);
      versions.set(op.stream, v + op.count);
    }
  });
  return index;
}

describe('the stream index', () => {
  it('finds the commits covering any range of positions, also after a checkpoint round trip', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), (list, from, span) => {
        const built = build(list);
        const restored = decodeCheckpoint(encodeCheckpoint(built, new IdempotencyWindow(0)), 0).index;
        for (const index of [built, restored]) {
          for (const [name, e] of model(list)) {
            const version = e.deleted ? 0 : e.commits.reduce((n, c) => n + c[2], 0);
            expect(index.versionOf(name)).toBe(version);
            expect(index.stateOf(name)?.deleted).toBe(e.deleted);
            const to = from + span;
            const want = e.deleted ? [] : e.commits.filter(([, first, count]) => first <= to && first + count - 1 >= from);
            expect(index.commitsCovering(name, from, to), `${name} ${from}..${to}`).toEqual(want);
            expect(index.commitOffsets(name, from, to), `offsets of ${name} ${from}..${to}`).toEqual(want.map(([at]) => at));
          }
          expect(index.versionOf('never')).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
