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
