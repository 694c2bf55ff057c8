import fc from 'fast-check';

/**
 * Property-based inputs for the differential test of the validation
 * compiler: an input valid for a class, then up to three changes, each a
 * field broken (one constraint at a time, wrong types, boundary lengths,
 * NaN and Infinity, dates that are ISO 8601 but not strict), a field
 * removed, or an unknown key added (Object.prototype's names such as
 * "__proto__" and "constructor" among them). Some inputs go through a JSON
 * round trip (an import line), some keep their values as they are (a
 * library caller's object), some hold fields on their prototype (inherited,
 * never validated).
 */

/** What a field takes, as its decorators say. */
export type FieldKind =
  | { kind: 'id'; max: number }
  | { kind: 'text'; max: number; min?: number }
  | { kind: 'unit' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'date' }
  | { kind: 'defined' }
  | { kind: 'anything' };

export type Shape = Record<string, FieldKind>;

const ID_CHARS = 'ABCXYZabcxyz0189-_.:@/+=~#';
const EMOJI = '😀';
const WITH_SELECTOR = '\u2764\uFE0F';

/** Strings of `n` characters as validator.js counts them: ASCII, surrogate pairs, variation sequences. */
function lengthAround(n: number): fc.Arbitrary<string> {
  return fc.constantFrom(
    'x'.repeat(Math.max(n, 0)),
    EMOJI.repeat(Math.max(n, 0)),
    WITH_SELECTOR.repeat(Math.max(n, 0)),
    'x'.repeat(Math.max(n - 1, 0)) + EMOJI,
  );
}

function boundary(max: number, min = 1): fc.Arbitrary<string> {
  return fc.oneof(lengthAround(min - 1), lengthAround(min), lengthAround(max - 1), lengthAround(max), lengthAround(max + 1));
}

const unicode = fc.string({ unit: 'binary', minLength: 0, maxLength: 12 });
const shortText = fc.string({ minLength: 1, maxLength: 24 });

const validDate = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-12-07', '2026-12-07T16:00:00Z', '2026-12-07T16:00:00+02:00', '2024-02-29T12:00:00.5Z', '2026-12-07T16:00Z'),
);

/** ISO 8601 that the strict check refuses or that only the loose one takes, and other near misses. */
const nearDates = fc.oneof(
  fc.constantFrom(
    '2026-02-30',
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01',
    '2026-00-10',
    '2026-12-32',
    '2026-365',
    '2026-366',
    '2024-366',
    '2026-W53-7',
    '2026-W01',
    '2026-12-07T24:00:00Z',
    '2026-12-07T16:60:00Z',
    '2026-12-07 16:00:00',
    '20261207T160000Z',
    '2026-1-7',
    '+002026-12-07T16:00:00Z',
    '2026-12-07T16:00:00.000+25:00',
    '',
    'now',
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 16 + ((d.getTime() >>> 3) % 8))),
  canonicalShaped(),
);

/**
 * toISOString's shape (YYYY-MM-DDTHH:MM:SS.sssZ) with any digits in its
 * fields, days 28-31 and leap years among them, and now and then one
 * character replaced: the compiled check decides this shape without
 * validator.js, so both sides of every field's range are tried.
 */
function canonicalShaped(): fc.Arbitrary<string> {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  const year = fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(999, 1000, 1600, 1900, 2000, 2024, 2100, 9999));
  const day = fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 28, max: 31 }));
  const field = (max: number, hot: number[]): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 0, max }), fc.constantFrom(...hot));
  const shaped = fc
    .tuple(year, field(99, [1, 2, 12, 13, 0]), day, field(99, [23, 24]), field(99, [59, 60]), field(99, [59, 60]), fc.integer({ min: 0, max: 999 }))
    .map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`);
  const touched = fc
    .tuple(shaped, fc.integer({ min: 0, max: 23 }), fc.constantFrom('x', ' ', '+', '-', ':', '.', 'z', 'T', '0', '٣'))
    .map(([text, at, c]) => text.slice(0, at) + c + text.slice(at + 1));
  return fc.oneof({ weight: 3, arbitrary: shaped }, { weight: 1, arbitrary: touched });
}

function valid(field: FieldKind): fc.Arbitrary<unknown> {
  switch (field.kind) {
    case 'id':
      return fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: Math.min(field.max, 40) });
    case 'text':
      // the longest valid values are few: validator.js counts a long string's characters with two regexes
      return fc.oneof(
        { weight: 18, arbitrary: fc.string({ minLength: field.min ?? 1, maxLength: Math.min(field.max, 40) }) },
        { weight: 1, arbitrary: fc.constant('x'.repeat(field.max)) },
        { weight: 1, arbitrary: fc.constant(EMOJI.repeat(field.max)) },
      );
    case 'unit':
      return fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, -0, 0.5));
    case 'int':
      return fc.integer({ min: field.min, max: field.max });
    case 'date':
      return validDate;
    case 'defined':
      return fc.oneof(fc.integer(), shortText, fc.boolean());
    case 'anything':
      return fc.anything({ maxDepth: 1 });
  }
}

/** Values that break a field's constraints, one or more at a time. */
function broken(field: FieldKind): fc.Arbitrary<unknown> {
  const wrongTypes = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(NaN, Infinity, -Infinity),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    shortText,
    unicode,
    fc.constant(''),
  );
  switch (field.kind) {
    case 'id':
      return fc.oneof(wrongTypes, boundary(field.max), fc.string({ unit: fc.constantFrom('a', ' ', 'é', '!', '$', '\n', EMOJI), minLength: 1, maxLength: 8 }));
    case 'text':
      return fc.oneof(wrongTypes, boundary(field.max, field.min ?? 1));
    case 'unit':
      return fc.oneof(wrongTypes, fc.double(), fc.constantFrom(-Number.MIN_VALUE, 1 + Number.EPSILON, 1.0000001, '0.5', '1', Number.MAX_VALUE));
    case 'int':
      return fc.oneof(wrongTypes, fc.constantFrom(field.min - 1, field.max + 1, 0.5, field.min + 0.5, '1'));
    case 'date':
      return fc.oneof(wrongTypes, nearDates, validDate.map((d) => ` ${d}`));
    case 'defined':
      return fc.constantFrom(null, undefined, 0, '', false);
    case 'anything':
      return wrongTypes;
  }
}

const EXTRA_KEYS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'extra', 'ID', 'ß', ''];

type Change = { key: string; how: 'break' | 'remove' | 'extra'; value: unknown };

/** An input for a class of `shape`, and how it was made (for the failure report). */
export function inputsOf(shape: Shape): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.keys(shape);
  // made once: an arbitrary built inside chain() would be built again for every case
  const breaks = fields.map((key) => broken(shape[key]!).map((value): Change => ({ key, how: 'break', value })));
  const change: fc.Arbitrary<Change> = fc.oneof(
    { weight: 4, arbitrary: fc.oneof(...breaks) },
    { weight: 1, arbitrary: fc.constantFrom(...fields).map((key): Change => ({ key, how: 'remove', value: undefined })) },
    { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string({ maxLength: 4 })), fc.oneof(fc.integer(), shortText, fc.constant(null))).map(([key, value]): Change => ({ key, how: 'extra', value })) },
  );
  const base = fc.record(Object.fromEntries(fields.map((f) => [f, valid(shape[f]!)])) as Record<string, fc.Arbitrary<unknown>>);
  return fc
    .tuple(base, fc.array(change, { maxLength: 3 }), fc.constantFrom('json', 'as-is', 'inherited'), fc.constantFrom(...fields))
    .map(([fieldsOf, changes, form, inheritedKey]) => {
      const input: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fieldsOf)) input[k] = v;
      for (const c of changes) {
        if (c.how === 'remove') delete input[c.key];
        // defined, not assigned: "__proto__" becomes an own key, as JSON.parse makes it
        else Object.defineProperty(input, c.key, { value: c.value, enumerable: true, writable: true, configurable: true });
      }
      if (form === 'json') {
        const text = JSON.stringify(input);
        return JSON.parse(text === undefined ? '{}' : text) as Record<string, unknown>;
      }
      if (form === 'inherited') {
        // a field on the prototype only: not the input's own, so absent for validation
        const { [inheritedKey]: moved, ...rest } = input;
        const inherited = Object.create({ [inheritedKey]: moved }) as Record<string, unknown>;
        for (const [k, v] of Object.entries(rest)) Object.defineProperty(inherited, k, { value: v, enumerable: true, writable: true, configurable: true });
        return inherited;
      }
      return input;
    });
}
