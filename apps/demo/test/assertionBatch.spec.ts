import { describe, expect, it } from 'vitest';
import { AssertionBatch, type BatchAppender } from '../src/app/assertionBatch.js';
import type { Appended } from '../src/app/assertionService.js';
import { IdInUseError } from '../src/domain/assertionErrors.js';
import { prepareAssertion, type PreparedAssertion } from '../src/domain/prepare.js';

const prepared = (id: string): PreparedAssertion => prepareAssertion({ id, subject: 's', predicate: 'p', object: 'o', confidence: 1, source: 't' });
const appended = (p: PreparedAssertion, globalPosition: number): Appended => ({ id: p.id, stream: p.stream, version: 1, globalPosition });

/** An appender that records its calls: `each` decides assertEach's outcomes (or throws to refuse the whole call). */
function recording(each: (ps: readonly PreparedAssertion[]) => PromiseSettledResult<Appended>[]): BatchAppender & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    assertEach: (ps) => {
      calls.push(`each ${ps.map((p) => p.id).join(',')}`);
      try {
        return Promise.resolve(each(ps));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    assertPrepared: (p) => {
      calls.push(`one ${p.id}`);
      return p.id.startsWith('bad') ? Promise.reject(new Error(`refused ${p.id}`)) : Promise.resolve(appended(p, 7));
    },
  };
}

describe('AssertionBatch: the new assertions of one job, appended together', () => {
  it('the assertions asked for in one job go in one assertEach, in call order; each caller gets its own outcome', async () => {
    const conflict = new IdInUseError('b', 'assertion-b', 'no_stream', 1, 'earth');
    const appender = recording((ps) => ps.map((p, i) => (p.id === 'b' ? { status: 'rejected', reason: conflict } : { status: 'fulfilled', value: appended(p, i * 100) })));
    const batch = new AssertionBatch(appender);
    const [a, b, c] = [prepared('a'), prepared('b'), prepared('c')];
    const settled = await Promise.allSettled([batch.add(a), batch.add(b), batch.add(c)]);
    expect(appender.calls).toEqual(['each a,b,c']);
    expect(settled).toEqual([
      { status: 'fulfilled', value: appended(a, 0) },
      { status: 'rejected', reason: conflict },
      { status: 'fulfilled', value: appended(c, 200) },
    ]);
    // the next job's assertions are the next batch
    await Promise.all([batch.add(prepared('d')), batch.add(prepared('e'))]);
    expect(appender.calls).toEqual(['each a,b,c', 'each d,e']);
  });

  it('more than 32 in one job go in chunks of 32, in call order, and the last one left alone as assertPrepared appends it', async () => {
    const appender = recording((ps) => ps.map((p, i) => ({ status: 'fulfilled', value: appended(p, i) })));
    const batch = new AssertionBatch(appender);
    const all = Array.from({ length: 65 }, (_, i) => prepared(`n${i}`));
    const results = await Promise.all(all.map((p) => batch.add(p)));
    const ids = (from: number, to: number): string => all.slice(from, to).map((p) => p.id).join(',');
    expect(appender.calls).toEqual([`each ${ids(0, 32)}`, `each ${ids(32, 64)}`, 'one n64']);
    expect(results.map((r) => r.id)).toEqual(all.map((p) => p.id));
  });

  it('one assertion alone is appended as assertPrepared appends it', async () => {
    const appender = recording(() => {
      throw new Error('not for one');
    });
    const batch = new AssertionBatch(appender);
    const a = prepared('a');
    await expect(batch.add(a)).resolves.toEqual(appended(a, 7));
    expect(appender.calls).toEqual(['one a']);
  });

  it('a batch refused as a whole (a bad argument anywhere) is appended one by one: each gets its own outcome, in call order', async () => {
    const appender = recording(() => {
      throw new Error('commit 1 is too large');
    });
    const batch = new AssertionBatch(appender);
    const [a, bad, c] = [prepared('a'), prepared('bad-1'), prepared('c')];
    const settled = await Promise.allSettled([batch.add(a), batch.add(bad), batch.add(c)]);
    expect(appender.calls).toEqual(['each a,bad-1,c', 'one a', 'one bad-1', 'one c']);
    expect(settled).toEqual([
      { status: 'fulfilled', value: appended(a, 7) },
      { status: 'rejected', reason: new Error('refused bad-1') },
      { status: 'fulfilled', value: appended(c, 7) },
    ]);
  });
});
