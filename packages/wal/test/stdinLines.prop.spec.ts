/**
 * LineSplitter, the line reader of `episteme-wal append`: however the input
 * is cut into chunks (a pipe delivers what it has), the lines are those of
 * the whole input read at once, the records the command always made; and a
 * line over the limit is reported while it is still open, not after it was
 * read whole into memory.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../src/cli/stdinLines.js';

/** The lines of the whole input, as `append` has always defined them (its README). */
function referenceLines(input: Buffer): string[] {
  const parts = input.toString('latin1').split('\n');
  const last = parts.pop()!;
  const lines = parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // a last line without a newline is a line; its trailing `\r` is data
  return last.length > 0 ? [...lines, last] : lines;
}

/** Feeds the chunks; stops at the first one after which the open line is reported too long. */
function split(chunks: Buffer[], max = Number.MAX_SAFE_INTEGER): { lines: string[]; tooLongAfter?: number; openLineBytes?: number } {
  const splitter = new LineSplitter(max);
  const lines: string[] = [];
  let read = 0;
  for (const chunk of chunks) {
    const got = splitter.push(chunk);
    read += chunk.length;
    lines.push(...got.lines.map((l) => l.toString('latin1')));
    if (got.openLineBytes !== undefined) return { lines, tooLongAfter: read, openLineBytes: got.openLineBytes };
  }
  lines.push(...splitter.end().map((l) => l.toString('latin1')));
  return { lines };
}

function cut(input: Buffer, at: number[]): Buffer[] {
  const points = [0, ...[...new Set(at)].sort((a, b) => a - b), input.length];
  return points.slice(1).map((end, i) => input.subarray(points[i], end));
}

const TRICKY = ['alpha\r\nbeta\n\n\r\n\r\rga\rmma\r', 'x\r', '\r\n', '\n', 'a\r\r\n', 'no newline', 'line\n\r', '\r\r\n\r\n\r'];

describe('LineSplitter: the same lines whatever the chunks', () => {
  it.each(TRICKY)('%j cut in two at every position, and byte by byte', (text) => {
    const input = Buffer.from(text, 'latin1');
    const expected = referenceLines(input);
    for (let i = 0; i <= input.length; i++) expect(split(cut(input, [i])).lines, `cut at ${i}`).toEqual(expected);
    expect(split(cut(input, Array.from({ length: input.length }, (_, i) => i))).lines).toEqual(expected);
  });

  it('any input of a, \\r and \\n, cut anywhere', () => {
    const input = fc.array(fc.constantFrom(0x61, 0x0d, 0x0a), { maxLength: 60 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(input, fc.array(fc.nat({ max: 60 }), { maxLength: 8 }), (bytes, at) => {
        expect(split(cut(bytes, at.filter((i) => i <= bytes.length))).lines).toEqual(referenceLines(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('LineSplitter: an open line over the limit is reported as soon as it is', () => {
  it('a line of exactly the limit is not, also with a CRLF cut between its \\r and \\n; one byte more is', () => {
    const max = 4;
    for (const text of ['abcd\r\n', 'abcd\n', 'abcd']) {
      const input = Buffer.from(text);
      for (let i = 0; i <= input.length; i++) expect(split(cut(input, [i]), max), `${JSON.stringify(text)} cut at ${i}`).toEqual({ lines: ['abcd'] });
    }
    expect(new LineSplitter(max).push(Buffer.from('abcd\r'))).toEqual({ lines: [] }); // a CRLF may follow
    expect(split([Buffer.from('abcd\r'), Buffer.from('x')], max)).toEqual({ lines: [], tooLongAfter: 6, openLineBytes: 6 });
    expect(split([Buffer.from('ok\nabcde')], max)).toEqual({ lines: ['ok'], tooLongAfter: 8, openLineBytes: 5 });
    // at the end of the input the `\r` is data: the last line is 5 bytes, the caller refuses it as a whole line
    expect(split([Buffer.from('abcd\r')], max).lines).toEqual(['abcd\r']);
  });

  it('any input, any chunks: the lines before the report are the right ones, the open line is over the limit, and it was reported at the first chunk that took it over', () => {
    const max = 5;
    const input = fc.array(fc.constantFrom(0x61, 0x61, 0x61, 0x0d, 0x0a), { maxLength: 80 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(input, fc.array(fc.nat({ max: 80 }), { maxLength: 10 }), (bytes, at) => {
        const expected = referenceLines(bytes);
        const splitter = new LineSplitter(max);
        const lines: string[] = [];
        let read = 0;
        for (const chunk of cut(bytes, at.filter((i) => i <= bytes.length))) {
          const got = splitter.push(chunk);
          read += chunk.length;
          lines.push(...got.lines.map((l) => l.toString('latin1')));
          expect(lines).toEqual(expected.slice(0, lines.length));
          // the open line, its last `\r` not counted (it may begin a CRLF)
          const open = read - (bytes.subarray(0, read).lastIndexOf(0x0a) + 1);
          const counted = open - (open > 0 && bytes[read - 1] === 0x0d ? 1 : 0);
          if (got.openLineBytes === undefined) {
            expect(counted).toBeLessThanOrEqual(max);
            continue;
          }
          expect(counted).toBeGreaterThan(max);
          expect(got.openLineBytes).toBe(open);
          expect(expected[lines.length]!.length).toBeGreaterThan(max); // whatever follows, that line is too long
          return;
        }
        lines.push(...splitter.end().map((l) => l.toString('latin1')));
        expect(lines).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
