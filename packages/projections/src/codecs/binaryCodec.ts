import type { EventCodec } from '../definition.js';
import { EventNotEncodableError, UndecodableEventError } from '../errors.js';
import { compileSchema, type BinarySchema, type CompiledSchema, type Shape } from './binarySchema.js';

/*
 * A payload of the binary codec (docs/projections.md, "The binary codec"):
 *
 *   0xE5                      format marker (version 1)
 *   varint                    the type's index in the schema's `types`
 *   varint, bytes             the text of every string and json field, one after
 *                             the other, UTF-8 (its byte length first)
 *   the type's fields         in the schema's order, each as its type says:
 *     string, json            varint: its length in the text, in UTF-16 code units
 *                             (json: its JSON text)
 *     int                     sign-magnitude varint: first byte 0x80 more, 0x40 negative,
 *                             6 low bits; then 7 bits a byte, low first; shortest form
 *     float                   8 bytes, IEEE 754, little-endian
 *     bool                    one byte, 0 or 1
 *     object                  its fields, in order
 *     list                    varint count, then the items
 *     optional                one byte, 0 (absent) or 1, then the value
 *
 * Varints are LEB128 in their shortest form. Nothing follows the last field,
 * and the fields use the whole text. The text is decoded with one call per
 * event and each field is a slice of it: one native call for all of an
 * event's strings instead of one each (most of the decode's time).
 * Every rule is checked on decode: bytes that break one are an
 * UndecodableEventError, never a value made of them.
 */
export const BINARY_EVENT_MARKER = 0xe5;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
/** A lone surrogate: TextEncoder would write U+FFFD for it, a value the event did not have. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NOT_ASCII = /[^\x00-\x7f]/;

// The payload being decoded. One decode runs at a time (it calls nothing
// outside this module), so the reader is module state: no object per event.
let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;
/** The event's text, and where the next string field starts in it. */
let text = '';
let textAt = 0;
/** Whether the text has a character past ASCII: then a slice must not split a surrogate pair. */
let textWide = false;

function fail(why: string): never {
  throw new UndecodableEventError(pos, why);
}

function byte(): number {
  if (pos >= end) fail('ends inside a field');
  return buf[pos++]!;
}

/** Unsigned LEB128, shortest form, at most 2^32 - 1 (lengths, counts, type indexes). */
function readVarint(): number {
  let b = byte();
  if (b < 0x80) return b;
  let value = b & 0x7f;
  let scale = 0x80;
  for (let i = 1; ; i++) {
    b = byte();
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (b === 0) fail('a length or count not in its shortest form');
      if (value > 0xffffffff) fail('a length or count past 2^32 - 1');
      return value;
    }
    if (i === 4) fail('a length or count longer than 5 bytes');
    scale *= 0x80;
  }
}

function readInt(): number {
  let b = byte();
  const negative = (b & 0x40) !== 0;
  let magnitude = b & 0x3f;
  if (b >= 0x80) {
    let scale = 0x40;
    for (let i = 1; ; i++) {
      if (i === 8) fail('an int longer than 8 bytes');
      b = byte();
      magnitude += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0) fail('an int not in its shortest form');
        break;
      }
      scale *= 0x80;
    }
    if (magnitude > Number.MAX_SAFE_INTEGER) fail('an int past 2^53 - 1');
  }
  if (negative && magnitude === 0) fail('an int of -0');
  return negative ? -magnitude : magnitude;
}

/** The event's text: latin1 when it is ASCII (the same text, made fastest), else strict UTF-8. */
function readText(): void {
  const length = readVarint();
  const start = pos;
  if (length > end - start) fail('a text longer than the payload');
  pos = start + length;
  text = buf.toString('latin1', start, pos);
  textAt = 0;
  textWide = NOT_ASCII.test(text);
  if (textWide) {
    try {
      text = utf8.decode(buf.subarray(start, pos));
    } catch {
      pos = start;
      fail('a text that is not UTF-8');
    }
  }
}

function readString(): string {
  const length = readVarint();
  if (length > text.length - textAt) fail('a string past the end of the text');
  const s = text.slice(textAt, (textAt += length));
  if (textWide && LONE_SURROGATE.test(s)) fail('a string that splits a surrogate pair');
  return s;
}

function readValue(shape: Shape): unknown {
  switch (shape.kind) {
    case 'string':
      return readString();
    case 'int':
      return readInt();
    case 'float': {
      if (end - pos < 8) fail('ends inside a float');
      const v = buf.readDoubleLE(pos);
      pos += 8;
      return v;
    }
    case 'bool': {
      const b = byte();
      if (b > 1) fail(`a bool of ${b}`);
      return b === 1;
    }
    case 'json': {
      const at = pos;
      const json = readString();
      try {
        return JSON.parse(json) as unknown;
      } catch {
        pos = at;
        return fail('a json field that is not JSON');
      }
    }
    case 'object':
      return readFields(shape.template ? { ...shape.template } : {}, shape);
    case 'list': {
      const count = readVarint();
      // every item takes a byte at least: a count past the bytes left is damage, not a list to allocate
      if (count > end - pos) fail('a list longer than the payload');
      const items = new Array<unknown>(count);
      for (let i = 0; i < count; i++) items[i] = readValue(shape.item);
      return items;
    }
    case 'optional': {
      const present = byte();
      if (present > 1) fail(`an optional field's flag of ${present}`);
      return present === 1 ? readValue(shape.value) : undefined;
    }
  }
}

function readFields(into: Record<string, unknown>, shape: Extract<Shape, { kind: 'object' }>): Record<string, unknown> {
  const { keys, fields } = shape;
  for (let i = 0; i < keys.length; i++) {
    const field = fields[i]!;
    const value = readValue(field);
    // an absent optional field is left out, as it was in the event
    if (value !== undefined || field.kind !== 'optional') into[keys[i]!] = value;
  }
  return into;
}

function decodeWith(schema: CompiledSchema, payload: Uint8Array): unknown {
  buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  pos = 0;
  end = payload.byteLength;
  if (end === 0) fail('empty');
  if (buf[0] !== BINARY_EVENT_MARKER) fail(`no binary event marker (first byte 0x${buf[0]!.toString(16).padStart(2, '0')})`);
  pos = 1;
  const index = readVarint();
  const type = schema.byIndex[index];
  if (!type) fail(`type index ${index}, the schema has ${schema.byIndex.length} types`);
  readText();
  const event = readFields(type.template ? { ...type.template } : { [schema.typeField]: type.name }, type.shape);
  if (pos !== end) fail(`${end - pos} bytes after the last field`);
  if (textAt !== text.length) fail(`${text.length - textAt} characters of text no field uses`);
  return event;
}

/** The bytes of an encoded event, grown as needed; its strings gathered apart, into its text. */
class Writer {
  bytes = new Uint8Array(256);
  length = 0;
  text = '';

  room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    this.room(1);
    this.bytes[this.length++] = b;
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  int(n: number): void {
    let magnitude = Math.abs(n);
    const sign = n < 0 ? 0x40 : 0;
    const low = magnitude % 0x40;
    magnitude = Math.floor(magnitude / 0x40);
    this.byte(low | sign | (magnitude > 0 ? 0x80 : 0));
    if (magnitude > 0) this.varint(magnitude);
  }

  string(s: string): void {
    this.text += s;
    this.varint(s.length);
  }

  float(v: number): void {
    this.room(8);
    new DataView(this.bytes.buffer, this.bytes.byteOffset).setFloat64(this.length, v, true);
    this.length += 8;
  }
}

function notEncodable(path: string, why: string): never {
  throw new EventNotEncodableError(path, why);
}

function writeValue(w: Writer, shape: Shape, value: unknown, path: string): void {
  switch (shape.kind) {
    case 'string':
      if (typeof value !== 'string') notEncodable(path, `a string is expected, not ${describe(value)}`);
      if (LONE_SURROGATE.test(value)) notEncodable(path, 'a string with a lone surrogate (not UTF-8)');
      return w.string(value);
    case 'int':
      if (!Number.isSafeInteger(value)) notEncodable(path, `a safe integer is expected, not ${describe(value)}`);
      if (Object.is(value, -0)) return w.int(0);
      return w.int(value as number);
    case 'float':
      if (typeof value !== 'number') notEncodable(path, `a number is expected, not ${describe(value)}`);
      return w.float(value);
    case 'bool':
      if (typeof value !== 'boolean') notEncodable(path, `a boolean is expected, not ${describe(value)}`);
      return w.byte(value ? 1 : 0);
    case 'json': {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (err) {
        notEncodable(path, `not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (text === undefined) notEncodable(path, `${describe(value)} has no JSON form`);
      return w.string(text);
    }
    case 'object':
      return writeFields(w, shape, value, path);
    case 'list':
      if (!Array.isArray(value)) notEncodable(path, `a list is expected, not ${describe(value)}`);
      w.varint(value.length);
      for (let i = 0; i < value.length; i++) writeValue(w, shape.item, value[i], `${path}[${i}]`);
      return;
    case 'optional':
      if (value === undefined) return w.byte(0);
      w.byte(1);
      return writeValue(w, shape.value, value, path);
  }
}

function writeFields(w: Writer, shape: Extract<Shape, { kind: 'object' }>, value: unknown, path: string, skip?: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) notEncodable(path, `an object is expected, not ${describe(value)}`);
  const record = value as Record<string, unknown>;
  // a field the schema does not name would be lost: refused, not dropped
  for (const key of Object.keys(record)) {
    if (key !== skip && !shape.known.has(key) && record[key] !== undefined) notEncodable(`${path}.${key}`, 'not a field of the schema');
  }
  for (let i = 0; i < shape.keys.length; i++) {
    const key = shape.keys[i]!;
    const field = shape.fields[i]!;
    const v = Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
    if (v === undefined && field.kind !== 'optional') notEncodable(`${path}.${key}`, 'missing');
    writeValue(w, field, v, `${path}.${key}`);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
}

/**
 * A codec that stores each event as its schema's fields in binary (no field
 * names, no JSON text): decoding is several times faster than `JSON.parse`
 * of the same events. Decoding checks every byte against the schema
 * (PROJECTION_UNDECODABLE_EVENT otherwise); encoding refuses an event that
 * does not fit it (PROJECTION_EVENT_NOT_ENCODABLE: a missing or extra field,
 * a value of another type), so what decodes is what was encoded. A schema
 * that is not one is PROJECTION_INVALID_ARGUMENT when the codec is made.
 */
export function binaryCodec<E = Record<string, unknown>>(schema: BinarySchema): EventCodec<E> {
  const compiled = compileSchema(schema);
  const { typeField, byName } = compiled;
  return {
    decode: (payload) => decodeWith(compiled, payload) as E,
    encode: (event) => {
      if (event === null || typeof event !== 'object') notEncodable('event', `an object is expected, not ${describe(event)}`);
      const name = (event as Record<string, unknown>)[typeField];
      const type = typeof name === 'string' ? byName.get(name) : undefined;
      if (!type) notEncodable(`event.${typeField}`, `${describe(name)} is not a type of the schema`);
      const fields = new Writer();
      writeFields(fields, type.shape, event, 'event', typeField);
      const w = new Writer();
      w.byte(BINARY_EVENT_MARKER);
      w.varint(type.index);
      const textBytes = encoder.encode(fields.text);
      w.varint(textBytes.length);
      w.room(textBytes.length + fields.length);
      w.bytes.set(textBytes, w.length);
      w.length += textBytes.length;
      w.bytes.set(fields.bytes.subarray(0, fields.length), w.length);
      w.length += fields.length;
      return w.bytes.slice(0, w.length);
    },
  };
}
