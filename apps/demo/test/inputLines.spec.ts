import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { inputLines, type InputLine } from '../src/cli/inputLines.js';
import { cli, json, removeTempDirs, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

/** `bytes` cut into chunks at `cuts` (positions, any order). */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) out.push(bytes.slice(from, c));
    from = Math.max(from, c);
  }
  return out;
}

async function collect(chunks: Uint8Array[]): Promise<InputLine[]> {
  const lines: InputLine[] = [];
  for await (const l of inputLines(Readable.from(chunks, { objectMode: true }))) lines.push(l);
  return lines;
}

async function viaReadline(chunks: Uint8Array[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of createInterface({ input: Readable.from(chunks.map((c) => Buffer.from(c))), crlfDelay: Infinity })) lines.push(l);
  return lines;
}

const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
const text = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ''));

describe('inputLines', () => {
  it('splits valid UTF-8 as readline does (crlfDelay Infinity), wherever the chunks are cut, and counts every byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(text, lineEnd), { maxLength: 20 }), text, fc.array(fc.nat(), { maxLength: 12 }), async (lines, last, cuts) => {
        const input = lines.map(([t, e]) => t + e).join('') + last;
        const bytes = new TextEncoder().encode(input);
        const chunks = chunked(bytes, cuts);
        const got = await collect(chunks);
        expect(got.map((l) => ('text' in l ? l.text : '<not utf-8>'))).toEqual(await viaReadline(chunks));
        expect(got.reduce((n, l) => n + l.bytes, 0)).toBe(bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('flags a line holding bytes that are not UTF-8, and only that line, even when a chunk cuts it', async () => {
    const good = new TextEncoder().encode('{"a":"café"}\n');
    const bad = Uint8Array.from([...new TextEncoder().encode('{"a":"caf'), 0xe9, ...new TextEncoder().encode('"}\r\n')]); // Latin-1 é
    const bytes = Uint8Array.from([...good, ...bad, ...good]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = await collect(chunked(bytes, [cut]));
      expect(got.map((l) => ('text' in l ? l.text : 'NOT UTF-8'))).toEqual(['{"a":"café"}', 'NOT UTF-8', '{"a":"café"}']);
    }
  });

  it('decodes any bytes as the strict TextDecoder does, line by line (overlong forms, surrogates, cut sequences: not UTF-8), wherever the chunks are cut', async () => {
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const byte = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constantFrom(0xc0, 0xc3, 0xa9, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xef, 0xbb, 0xbf));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(byte, { maxLength: 12 }), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), async (lines, cuts) => {
        const bytes = Uint8Array.from(lines.flatMap((l) => [...l, 0x0a]));
        const expected = lines.map((l) => {
          try {
            return strict.decode(Uint8Array.from(l));
          } catch {
            return '<not utf-8>';
          }
        });
        const got = await collect(chunked(bytes, cuts));
        expect(got.map((l) => ('text' in l ? l.text : '<not utf-8>'))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('a line over maxLineBytes comes out as too long, wherever the chunks are cut (after a \\r too), and every byte is counted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(text, lineEnd), { maxLength: 12 }), text, fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 0, max: 12 }), async (lines, last, cuts, max) => {
        const input = lines.map(([t, e]) => t + e).join('') + last;
        const bytes = new TextEncoder().encode(input);
        const whole = await collect(chunked(bytes, []));
        const got: InputLine[] = [];
        for await (const l of inputLines(Readable.from(chunked(bytes, cuts), { objectMode: true }), max)) got.push(l);
        // the same lines as without a limit, those longer than `max` (their text's bytes) replaced by the marker
        const expected = whole.map((l) => ('text' in l && new TextEncoder().encode(l.text).length > max ? 'TOO LONG' : 'text' in l ? l.text : '?'));
        expect(got.map((l) => ('tooLong' in l ? 'TOO LONG' : 'text' in l ? l.text : '?'))).toEqual(expected);
        expect(got.map((l) => l.bytes)).toEqual(whole.map((l) => l.bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('drops a too-long line as it comes: an endless line does not grow memory, and the lines after it are read', async () => {
    const limit = 1024;
    let sent = 0;
    // 64 MiB of one line in 64 KiB chunks, then a short line: kept whole, this would hold the 64 MiB
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const source = (async function* () {
      // one chunk, given again and again (a stream may reuse its buffer): only what the reader keeps shows in arrayBuffers
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      for (; sent < 64 * 1024 * 1024; sent += chunk.length) {
        yield chunk;
        if (sent % (4 * 1024 * 1024) === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      }
      yield new TextEncoder().encode('\nnext\n');
    })();
    const got: InputLine[] = [];
    for await (const l of inputLines(source, limit)) got.push(l);
    expect(got).toEqual([{ tooLong: true, bytes: 64 * 1024 * 1024 + 1 }, { text: 'next', bytes: 5 }]);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  });

  it('keeps a BOM (the caller drops it from line 1 only)', async () => {
    const got = await collect([new TextEncoder().encode('\ufeffa\n\ufeffb\n')]);
    expect(got.map((l) => ('text' in l ? l.text : ''))).toEqual(['\ufeffa', '\ufeffb']);
  });
});

describe('episteme import of bytes that are not UTF-8', () => {
  it('reports the line by number and skips it (exit 1); the other lines are appended unchanged', async () => {
    const data = tempDir();
    const file = join(tempDir(), 'latin1.ndjson');
    const line = (subject: string) => new TextEncoder().encode(JSON.stringify({ subject, predicate: 'p', object: 'o', confidence: 1, source: 't' }) + '\n');
    const latin1 = Buffer.from(JSON.stringify({ subject: 'café', predicate: 'p', object: 'o', confidence: 1, source: 't' }) + '\n', 'latin1');
    writeFileSync(file, Buffer.concat([line('café'), latin1, line('thé')]));
    const r = await cli(['--data', data, '--json', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^line 2: not UTF-8/m);
    expect(json<{ records: number; invalid: number; lines: number; bytes: number }>(r.stdout)).toMatchObject({ records: 2, invalid: 1, lines: 3, bytes: readFileSync(file).length });
    const segment = readdirSync(join(data, 'journal')).find((n) => n.endsWith('.wal'))!;
    const stored = readFileSync(join(data, 'journal', segment));
    expect(stored.includes(Buffer.from('café'))).toBe(true);
    expect(stored.includes(Buffer.from('\ufffd'))).toBe(false); // nothing was stored with a replacement character
  });
});

describe('episteme import of a line longer than any assertion', () => {
  it('reports it by number without reading it whole (not as "not UTF-8"), skips it (exit 1), appends the others', async () => {
    const data = tempDir();
    const file = join(tempDir(), 'long.ndjson');
    const line = (subject: string) => Buffer.from(JSON.stringify({ subject, predicate: 'p', object: 'o', confidence: 1, source: 't' }) + '\n');
    const long = Buffer.concat([Buffer.from('{"subject":"'), Buffer.alloc(17 * 1024 * 1024, 0x61), Buffer.from('"}\n')]);
    writeFileSync(file, Buffer.concat([line('before'), long, line('after')]));
    const r = await cli(['--data', data, '--json', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^line 2: longer than 16\.0 MiB: no assertion is that long/m);
    expect(json<{ records: number; invalid: number; lines: number; bytes: number }>(r.stdout)).toMatchObject({ records: 2, invalid: 1, lines: 3, bytes: readFileSync(file).length });
  });
});
