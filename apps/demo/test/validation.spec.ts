import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationFailedError } from '../src/domain/events.js';
import { prepareAssertion } from '../src/domain/prepare.js';

const FIELDS = ['subject', 'predicate', 'object', 'confidence', 'source', 'id', 'assertedAt'] as const;

function refusal(input: Record<string, unknown>): string {
  try {
    prepareAssertion(input);
  } catch (err) {
    if (err instanceof ValidationFailedError) return err.message;
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

const valid = { subject: 'mars', predicate: 'hasColor', object: 'red', confidence: 0.9, source: 'survey' };

describe('assertion validation (class-validator on the JSON object as it is)', () => {
  it('an accepted assertion is appended with exactly its fields and values, nothing converted, nothing lost', () => {
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));
    const key = fc.oneof(fc.constantFrom(...FIELDS), fc.constantFrom('__proto__', 'constructor', 'extra'), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 9 }), fc.boolean(), (random, base) => {
        // JSON round trip: what an import line or a request body is
        const input = JSON.parse(JSON.stringify(base ? { ...valid, ...random } : random)) as Record<string, unknown>;
        let event: unknown;
        try {
          event = prepareAssertion(input).event;
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationFailedError);
          return;
        }
        // as the store encodes it into the commit
        const { data } = JSON.parse(JSON.stringify(event)) as { data: Record<string, unknown> };
        const expected: Record<string, unknown> = { ...input };
        if (expected.id == null) expected.id = data.id;
        if (expected.assertedAt == null) expected.assertedAt = data.assertedAt;
        expect(data).toEqual(expected);
        expect(Object.keys(data).every((k) => (FIELDS as readonly string[]).includes(k))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('a "__proto__" key is an unknown property, refused: it never becomes the prototype that would lend the required fields', () => {
    const input = JSON.parse(`{"__proto__": ${JSON.stringify(valid)}}`) as Record<string, unknown>;
    expect(refusal(input)).toBe('invalid assertion: property __proto__ should not exist');
    const withFields = JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(valid).slice(1)}`) as Record<string, unknown>;
    expect(refusal(withFields)).toBe('invalid assertion: property __proto__ should not exist');
    // class-validator's whitelist let names of Object.prototype through ("constructor": null even threw a TypeError)
    expect(refusal({ ...valid, constructor: null })).toBe('invalid assertion: property constructor should not exist');
    expect(refusal({ ...valid, hasOwnProperty: 1 })).toBe('invalid assertion: property hasOwnProperty should not exist');
  });

  it('values are not converted: a string confidence, a number subject, a nested object are refused', () => {
    expect(refusal({ ...valid, confidence: '0.5' })).toMatch(/confidence must be a number from 0 to 1 \(a JSON number, not a string\)/);
    expect(refusal({ ...valid, subject: 42 })).toMatch(/subject must be a string/);
    expect(refusal({ ...valid, object: { nested: true } })).toMatch(/object must be a string/);
    expect(refusal({ ...valid, extra: 1 })).toMatch(/property extra should not exist/);
  });
});
