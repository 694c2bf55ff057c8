/**
 * Values every compiled predicate is tried on against its decorator's own
 * validate, once, when a class is compiled: a custom decorator registered
 * under a built-in's name disagrees on some of them, and its class falls
 * back to class-validator. Types, emptiness, lengths around the common
 * limits (in UTF-16 units and in characters), number edges and dates.
 */
const LENGTHS = [0, 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049];

export const PROBE_VALUES: readonly unknown[] = [
  undefined,
  null,
  true,
  false,
  {},
  [],
  ['a'],
  '',
  ' ',
  'a',
  'ab',
  'a b',
  'a-b_c.d:e@f/g+h=i~j#k',
  'ä',
  '😀',
  '😀'.repeat(65),
  '\u2764\uFE0F',
  '0.5',
  '1',
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  2,
  -0.000001,
  1.000001,
  100,
  Number.MAX_SAFE_INTEGER,
  NaN,
  Infinity,
  -Infinity,
  '2026-12-07T16:00:00.000Z',
  '2026-12-07T16:00:00Z',
  '2026-12-07',
  '2026-02-30T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-12-07 16:00',
  '20261207T160000Z',
  'not a date',
  ...LENGTHS.map((n) => 'x'.repeat(n)),
];
