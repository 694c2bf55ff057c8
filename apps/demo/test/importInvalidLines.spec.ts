import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AssertionMade, validatedByClassValidator, ValidationFailedError } from '../src/domain/events.js';
import { cli, json, removeTempDirs, tempDir } from './cliHelpers.js';

const LINES = 100_000;

/** Ways a line breaks one of AssertionMade's constraints (the compiled check refuses it, class-validator words it). */
const BREAKS: ((line: Record<string, unknown>, n: number) => Record<string, unknown>)[] = [
  (l) => ({ ...l, confidence: 1.5 }),
  (l) => ({ ...l, subject: '' }),
  (l) => ({ ...l, predicate: 'x'.repeat(257) }),
  (l, n) => ({ ...l, id: `has space ${n}` }),
  (l) => ({ ...l, assertedAt: '2026-02-30T00:00:00Z' }),
  (l) => ({ ...l, colour: 'red' }),
  ({ source: _, ...l }) => l,
  (l) => ({ ...l, confidence: '0.5' }),
  (l) => ({ ...l, object: 42 }),
  (l, n) => ({ ...l, id: `😀${n}` }),
  (l) => ({ ...l, confidence: -0.001, source: 'y'.repeat(300) }),
];

/** class-validator's wording for a line, as the app reported it before the compiled check (id and time filled in as the app fills them). */
function classValidatorMessage(line: Record<string, unknown>): string {
  try {
    validatedByClassValidator(AssertionMade, { ...line, id: line.id ?? 'generated', assertedAt: line.assertedAt ?? '2026-12-07T00:00:00.000Z' }, 'assertion');
  } catch (err) {
    if (err instanceof ValidationFailedError) return err.message;
    throw err;
  }
  throw new Error(`class-validator accepts ${JSON.stringify(line)}`);
}

describe('import of 100,000 lines, 1% of them invalid', () => {
  it('appends the 99,000 valid lines and reports exactly the invalid ones, by number, in order, with class-validator\'s messages', async () => {
    const lines: string[] = [];
    const expected: string[] = [];
    const invalidNumbers: number[] = [];
    for (let n = 1; n <= LINES; n++) {
      const h = Math.imul(n, 2654435761) >>> 0;
      const valid: Record<string, unknown> = { subject: `entity-${h % 997}`, predicate: 'hasColor', object: `value-${h % 5003}`, confidence: (h % 1001) / 1000, source: 'survey' };
      if (n % 7 === 0) valid.id = `id-${n}`;
      if (n % 11 === 0) valid.assertedAt = '2026-01-01T00:00:00Z';
      if (n % 100 === 37) {
        const broken = BREAKS[(n / 100) % BREAKS.length | 0]!(valid, n);
        lines.push(JSON.stringify(broken));
        expected.push(`line ${n}: ${classValidatorMessage(broken)}`);
        invalidNumbers.push(n);
      } else {
        lines.push(JSON.stringify(valid));
      }
    }
    expect(invalidNumbers).toHaveLength(LINES / 100);
    const file = join(tempDir(), 'mixed.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const data = tempDir();
    try {
      const r = await cli(['--data', data, '--json', 'import', file]);
      expect(r.code).toBe(1); // some lines were refused
      expect(r.stderr.trimEnd().split('\n')).toEqual(expected);
      const summary = json<{ records: number; invalid: number; lines: number; invalidLines: number[] }>(r.stdout);
      expect(summary).toMatchObject({ records: LINES - invalidNumbers.length, invalid: invalidNumbers.length, lines: LINES, invalidLines: invalidNumbers });
    } finally {
      removeTempDirs();
    }
  });
});
