import { crc32cJs, encodeRecord, encodeSegmentHeader, HEADER_SIZE } from '@episteme/wal/internals';
import type { Rng } from '../rng.js';

/** Bad input for the decoders: random bytes, and valid bytes with a few well-aimed mutations. */

const NASTY_U32 = [0, 1, 39, 40, 41, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1];

export function randomBytes(rng: Rng, max: number): Uint8Array {
  return rng.bytes(rng.int(0, max));
}

/** Flips bits, overwrites, truncates, extends or splices `bytes` (a copy). */
export function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  let out: Uint8Array = bytes.slice();
  const n = rng.int(1, 4);
  for (let k = 0; k < n; k++) {
    const kind = rng.int(0, 6);
    if (out.length === 0 || kind === 0) {
      out = concat(out, rng.bytes(rng.int(1, 64)));
    } else if (kind === 1) {
      const i = rng.int(0, out.length - 1);
      out[i] = out[i]! ^ (1 << rng.int(0, 7));
    } else if (kind === 2) {
      out = out.subarray(0, rng.int(0, out.length)).slice();
    } else if (kind === 3 && out.length >= 4) {
      const i = rng.int(0, out.length - 4);
      new DataView(out.buffer, out.byteOffset).setUint32(i, rng.pick(NASTY_U32), true);
    } else if (kind === 4) {
      const i = rng.int(0, out.length - 1);
      out.fill(rng.pick([0, 0xff]), i, Math.min(out.length, i + rng.int(1, 64)));
    } else if (kind === 5) {
      const i = rng.int(0, out.length);
      out = concat(concat(out.subarray(0, i), rng.bytes(rng.int(1, 16))), out.subarray(i));
    } else {
      out = concat(out, new Uint8Array(rng.int(1, 200)));
    }
  }
  return out;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A valid segment: header for `base`, then records. */
export function validSegment(rng: Rng, base: number, records: number): { bytes: Uint8Array; end: number } {
  let bytes: Uint8Array = encodeSegmentHeader(base);
  let end = base;
  for (let i = 0; i < records; i++) {
    const rec = encodeRecord(rng.chance(0.3) ? rng.bytes(rng.int(0, 80)) : Buffer.from(JSON.stringify({ i, t: 'x'.repeat(rng.int(0, 40)) })));
    bytes = concat(bytes, rec);
    end += rec.length;
  }
  return { bytes, end };
}

/** A record header claiming `length` (the length is checked before anything is read or allocated). */
export function lyingRecordHeader(rng: Rng, length: number): Uint8Array {
  const h = rng.bytes(40);
  new DataView(h.buffer).setUint32(0, length >>> 0, true);
  return h;
}

export { HEADER_SIZE };

/** JSON-ish text: valid JSON of every shape, and near-misses. */
export function jsonish(rng: Rng, depth = 0): string {
  const k = rng.int(0, depth > 2 ? 6 : 10);
  switch (k) {
    case 0:
      return 'null';
    case 1:
      return String(rng.pick([0, -1, 1.5, 2 ** 53, -(2 ** 60), 1e308, 42]));
    case 2:
      return JSON.stringify(randomString(rng, 12));
    case 3:
      return rng.pick(['true', 'false', '[]', '{}', '""']);
    case 4:
      return rng.pick(['{', '[1,', '"\\u12', 'nul', '1e', '{"a":}', '\u0000', '']);
    case 5:
      return `"${'\\'.repeat(rng.int(1, 3))}"`;
    case 6:
      return String(rng.int(0, 1000));
    case 7:
      return `[${Array.from({ length: rng.int(0, 3) }, () => jsonish(rng, depth + 1)).join(',')}]`;
    default: {
      const keys = ['name', 'cursor', 'committedAt', 'state', 'pid', 'error', 'format', 'version', 'checkpoint', 'state', 'events', 'savedAt', '__proto__', 'constructor', 'crc'];
      const fields = Array.from({ length: rng.int(0, 7) }, () => `${JSON.stringify(rng.chance(0.8) ? rng.pick(keys) : randomString(rng, 6))}:${jsonish(rng, depth + 1)}`);
      return `{${fields.join(',')}}`;
    }
  }
}

const ALPHABET = 'abcXYZ019._-/\\ :"\'\n\t\u0000é💥';

export function randomString(rng: Rng, max: number): string {
  let s = '';
  const n = rng.int(0, max);
  for (let i = 0; i < n; i++) s += ALPHABET[rng.int(0, ALPHABET.length - 1)] ?? 'a';
  return s;
}

/** A cursor file: random, a valid one mutated, or a valid checksum over a random body. */
export function cursorFileBytes(rng: Rng, valid: (state: object) => Uint8Array): Uint8Array {
  const kind = rng.int(0, 3);
  if (kind === 0) return randomBytes(rng, 200);
  const state = { name: rng.chance(0.8) ? 'c0' : randomString(rng, 10), cursor: rng.pick([0, 40, 12345, -1, 1.5, 2 ** 53, NaN]), committedAt: '2024-01-01T00:00:00.000Z', state: rng.pick(['registered', 'running', 'stopped', 'failed', 'bogus']) };
  if (kind === 1) return mutate(rng, valid(state));
  // a body whose checksum is right: the decoder must judge the content itself
  const body = rng.chance(0.5) ? jsonish(rng) : `{"format":${rng.pick(['1', '2', '"1"', 'null'])}${rng.chance(0.5) ? '' : ','}${jsonish(rng).replace(/^\{|\}$/g, '')}}`;
  const crc = crc32cJs(Buffer.from(body)).toString(16).padStart(8, '0');
  const text = body.endsWith('}') ? `${body.slice(0, -1)},"crc":"${crc}"}\n` : `${body},"crc":"${crc}"}\n`;
  return Buffer.from(kind === 2 ? text : text.replace(/\n$/, rng.pick(['', '\n\n', ' ', '\r\n'])));
}

/** A snapshot file: random, a valid one mutated, or a valid frame (length, checksum) around a random body. */
export function snapshotBytes(rng: Rng, valid: () => Uint8Array): Uint8Array {
  const kind = rng.int(0, 3);
  if (kind === 0) return randomBytes(rng, 300);
  if (kind === 1) return mutate(rng, valid());
  const body = Buffer.from(kind === 2 ? jsonish(rng) : `{"name":"tally","version":${rng.pick(['1', '0', '-1', '1.5', '"1"'])},"checkpoint":${rng.pick(['0', '40', '-40', '1e400', '9007199254740993'])},"state":${jsonish(rng)},"events":${jsonish(rng)},"savedAt":${jsonish(rng)}}`);
  const crc = crc32cJs(body).toString(16).padStart(8, '0');
  const length = rng.chance(0.9) ? String(body.length) : rng.pick(['-1', '1e3', '0x10', '', String(body.length + 1)]);
  return Buffer.concat([Buffer.from(`episteme-snapshot v1 ${length} ${crc}\n`), body]);
}
