import { describe, expect, it } from 'vitest';
import { nextGeneratedId } from '../src/domain/generatedIds.js';
import { streamOf } from '../src/domain/events.js';
import { prepareAssertion } from '../src/domain/prepare.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generated assertion ids', () => {
  it('are random UUIDs (version 4, variant 10), all distinct, each with its stream name; every random digit takes every value', () => {
    const seen = new Set<string>();
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    const g = { id: '', stream: '' };
    for (let i = 0; i < 100_000; i++) {
      nextGeneratedId(g);
      expect(g.id).toMatch(UUID_V4);
      expect(g.stream).toBe(streamOf(g.id));
      seen.add(g.id);
      for (let k = 0; k < 36; k++) digits[k]!.add(g.id[k]!);
    }
    expect(seen.size).toBe(100_000);
    digits.forEach((d, k) => {
      if ([8, 13, 18, 23].includes(k)) expect([...d]).toEqual(['-']);
      else if (k === 14) expect([...d]).toEqual(['4']);
      else if (k === 19) expect([...d].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(d.size, `digit ${k}`).toBe(16);
    });
  });

  it('an assertion without an id gets one, in its stream; one with an id keeps it', () => {
    const input = { subject: 's', predicate: 'p', object: 'o', confidence: 0.5, source: 'x' };
    const made = prepareAssertion(input);
    expect(made.id).toMatch(UUID_V4);
    expect(made.event.data.id).toBe(made.id);
    expect(made.stream).toBe(streamOf(made.id));
    expect(prepareAssertion({ ...input, id: 'mine' })).toMatchObject({ id: 'mine', stream: streamOf('mine') });
  });
});
