import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach } from 'vitest';
import { encodeRecord, encodeSegmentHeader, HEADER_SIZE, segmentName } from '../src/index.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures', 'vectors');

const made: string[] = [];
afterEach(() => {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(prefix = 'episteme-wal-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A writable copy of a golden vector directory. */
export function copyVector(name: string): string {
  const dir = join(tempDir(), name);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** Every file below `dir` with the SHA-256 of its bytes: equal maps mean nothing changed. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out[relative(dir, p) + '/'] = 'dir';
        walk(p);
      } else {
        out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * Writes a journal directly from payloads, one array per segment, as an
 * independent writer would: bases follow from the record sizes.
 */
export function writeJournal(dir: string, segments: Uint8Array[][], firstBase = 0): { offsets: number[]; head: number; names: string[] } {
  let base = firstBase;
  const offsets: number[] = [];
  const names: string[] = [];
  for (const payloads of segments) {
    const parts: Uint8Array[] = [encodeSegmentHeader(base)];
    let offset = base;
    for (const p of payloads) {
      offsets.push(offset);
      const rec = encodeRecord(p);
      parts.push(rec);
      offset += rec.length;
    }
    const name = segmentName(base);
    writeFileSync(join(dir, name), Buffer.concat(parts));
    names.push(name);
    base = offset;
  }
  return { offsets, head: base, names };
}

export function payloadOf(i: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let k = 0; k < size; k++) p[k] = (i * 31 + k * 7) & 0xff;
  return p;
}

export { HEADER_SIZE };
