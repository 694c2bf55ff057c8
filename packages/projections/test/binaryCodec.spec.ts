import { describe, expect, it } from 'vitest';
import { InMemoryLog } from '@episteme/wal/testing';
import {
  BINARY_EVENT_MARKER,
  binaryCodec,
  InMemorySnapshotStore,
  isProjectionError,
  jsonCodec,
  ProjectionEngine,
  ProjectionErrorCodes,
  type BinarySchema,
  type Projection,
} from '../src/index.js';
import { quiet } from './helpers.js';
import { seededRandom } from '../../wal/test/rng.js';

/** Every field type, nested and optional, in two event types. */
const SCHEMA: BinarySchema = {
  types: {
    Everything: {
      s: 'string',
      i: 'int',
      f: 'float',
      b: 'bool',
      j: 'json',
      o: { name: 'string', n: 'int' },
      l: ['int'],
      lo: [{ k: 'string', tags: ['string'] }],
      os: 'string?',
      oi: 'int?',
      oo: { optional: { x: 'float' } },
      ol: { optional: ['bool'] },
    },
    Small: { id: 'string' },
  },
};
const codec = binaryCodec(SCHEMA);

const full = {
  type: 'Everything',
  s: 'héllo wörld ✓ 𝄞',
  i: -1234567,
  f: 0.1,
  b: true,
  j: { a: [1, 'two', null, { three: false }] },
  o: { name: 'ascii only', n: 63 },
  l: [0, 1, -1, 64, -64, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
  lo: [
    { k: '', tags: [] },
    { k: 'a', tags: ['x', 'ÿ', '😀'] },
  ],
  os: 'present',
  oi: 0,
  oo: { x: Number.NEGATIVE_INFINITY },
  ol: [true, false],
};
const sparse = { type: 'Everything', s: '', i: 0, f: -0, b: false, j: null, o: { name: '', n: -63 }, l: [], lo: [], oo: undefined };
const small = { type: 'Small', id: 'evt-000000001' };

const EXAMPLES = [full, sparse, small, { ...full, f: Number.NaN, j: 'a string', s: '\u0000\u007f\u0080' }];

function expectTyped(fn: () => unknown, code: string): void {
  let thrown: unknown;
  let value: unknown;
  try {
    value = fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `returned ${JSON.stringify(value)} instead of an error`).toBeDefined();
  expect(isProjectionError(thrown, code as never), String(thrown)).toBe(true);
}
const undecodable = (payload: Uint8Array): void => expectTyped(() => codec.decode(payload), ProjectionErrorCodes.UndecodableEvent);
const notEncodable = (event: unknown): void => expectTyped(() => codec.encode(event as never), ProjectionErrorCodes.EventNotEncodable);

/** A payload written by hand: marker, type index, the text, then the field bytes. */
function payload(type: number, text: Uint8Array | string, fields: number[]): Uint8Array {
  const t = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return Uint8Array.from([BINARY_EVENT_MARKER, type, t.length, ...t, ...fields]);
}

describe('binaryCodec: round trips', () => {
  it.each(EXAMPLES.map((e, i) => [i, e] as const))('every field type comes back as it was encoded (example %i)', (_i, event) => {
    const bytes = codec.encode(event as never);
    expect(bytes[0]).toBe(BINARY_EVENT_MARKER);
    const back = codec.decode(bytes) as Record<string, unknown>;
    // an optional field given as undefined comes back absent
    const expected = Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined));
    expect(back).toEqual(expected);
    expect(Object.keys(back)).toEqual(Object.keys(expected));
    if (event === sparse) expect(Object.is(back.f, -0)).toBe(true);
    // the same bytes again from what was decoded: one encoding per event
    expect(codec.encode(back as never)).toEqual(bytes);
  });

  it('is smaller than JSON and decodes views of a larger buffer (a journal chunk) in place', () => {
    const bytes = codec.encode(full as never);
    expect(bytes.length).toBeLessThan(jsonCodec.encode(full).length);
    const chunk = new Uint8Array(bytes.length + 20).fill(0xff);
    chunk.set(bytes, 7);
    expect(codec.decode(chunk.subarray(7, 7 + bytes.length))).toEqual(codec.decode(bytes));
  });

  it('takes the type from another field when told, and an int of -0 is 0', () => {
    const kinded = binaryCodec<{ kind: string; n: number }>({ typeField: 'kind', types: { A: { n: 'int' }, B: { n: 'int' } } });
    const back = kinded.decode(kinded.encode({ kind: 'B', n: -0 }));
    expect(back).toEqual({ kind: 'B', n: 0 });
    expect(Object.is(back.n, 0)).toBe(true);
  });
});

describe('binaryCodec: an event that does not fit the schema is PROJECTION_EVENT_NOT_ENCODABLE', () => {
  const bad: Array<[string, unknown]> = [
    ['not an object', 'Small'],
    ['null', null],
    ['no type', { id: 'x' }],
    ['an unknown type', { type: 'Nope', id: 'x' }],
    ['a type that is not a string', { type: 1, id: 'x' }],
    ['a missing field', { type: 'Small' }],
    ['a field the schema does not name', { ...small, extra: 1 }],
    ['a nested field the schema does not name', { ...full, o: { name: 'a', n: 1, more: true } }],
    ['a number for a string', { type: 'Small', id: 5 }],
    ['a lone surrogate', { type: 'Small', id: 'a\uD800b' }],
    ['a fraction for an int', { ...full, i: 1.5 }],
    ['an unsafe int', { ...full, i: 2 ** 53 }],
    ['a string for a float', { ...full, f: '1' }],
    ['a number for a bool', { ...full, b: 1 }],
    ['a json value with no JSON form', { ...full, j: () => 1 }],
    ['a BigInt in a json value', { ...full, j: { n: 1n } }],
    ['an object for a list', { ...full, l: { 0: 1 } }],
    ['a list item of the wrong type', { ...full, l: [1, 'two'] }],
    ['null for an optional field', { ...full, os: null }],
    ['an array for an object', { ...full, o: [] }],
  ];
  it.each(bad)('%s', (_what, event) => notEncodable(event));
});

describe('binaryCodec: bytes that are not an event of the schema are PROJECTION_UNDECODABLE_EVENT, never a value', () => {
  const valid = codec.encode(full as never);

  it('every truncation of a valid payload, and a byte added after it', () => {
    for (let n = 0; n < valid.length; n++) undecodable(valid.subarray(0, n));
    undecodable(Uint8Array.from([...valid, 0]));
  });

  it('JSON (another codec), another marker, an unknown type index', () => {
    undecodable(jsonCodec.encode(full));
    undecodable(Uint8Array.from([0xe6, ...valid.subarray(1)]));
    undecodable(payload(2, '', []));
    undecodable(payload(0x7f, '', []));
  });

  it('each rule of the format broken by hand', () => {
    expect(codec.decode(payload(1, 'ab', [2]))).toEqual({ type: 'Small', id: 'ab' });
    undecodable(payload(1, 'abc', [2])); // text no field uses
    undecodable(payload(1, 'ab', [3])); // a string past the end of the text
    undecodable(payload(1, Uint8Array.from([0xc3, 0x28]), [2])); // not UTF-8
    undecodable(payload(1, Uint8Array.from([0xed, 0xa0, 0x80]), [3])); // an encoded surrogate is not UTF-8
    undecodable(payload(1, '😀', [1, 1])); // a field splitting a surrogate pair (Small has one field: also trailing)
    const pair = binaryCodec({ types: { P: { a: 'string', b: 'string' } } });
    expect(pair.decode(payload(0, '😀', [2, 0]))).toEqual({ type: 'P', a: '😀', b: '' });
    undecodable2(pair, payload(0, '😀', [1, 1])); // one half of the pair in each field
    undecodable(Uint8Array.from([BINARY_EVENT_MARKER, 0x81, 0x00, 0, 0])); // a type index not in its shortest form
    undecodable(Uint8Array.from([BINARY_EVENT_MARKER, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])); // a varint longer than 5 bytes
    const ints = binaryCodec({ types: { I: { n: 'int' } } });
    expect(ints.decode(payload(0, '', [0x80 | 0x3f, 0x01]))).toEqual({ type: 'I', n: 127 });
    undecodable2(ints, payload(0, '', [0x40])); // -0
    undecodable2(ints, payload(0, '', [0x81, 0x00])); // not the shortest form
    undecodable2(ints, payload(0, '', [0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])); // past 2^53 - 1
    undecodable2(ints, payload(0, '', [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])); // longer than 8 bytes
    const flags = binaryCodec({ types: { F: { b: 'bool', o: 'int?' } } });
    expect(flags.decode(payload(0, '', [1, 0]))).toEqual({ type: 'F', b: true });
    undecodable2(flags, payload(0, '', [2, 0])); // a bool of 2
    undecodable2(flags, payload(0, '', [1, 2, 0])); // an optional flag of 2
    const lists = binaryCodec({ types: { L: { l: ['bool'] } } });
    undecodable2(lists, payload(0, '', [0x7f, 1])); // more items than bytes left
    const json = binaryCodec({ types: { J: { j: 'json' } } });
    undecodable2(json, payload(0, '{"a":', [5])); // not JSON
    const floats = binaryCodec({ types: { D: { d: 'float' } } });
    undecodable2(floats, payload(0, '', [0, 0, 0, 0, 0, 0, 0])); // 7 bytes of a float
  });

  it('random bytes and random damage: a typed error, or a value whose encoding decodes to the same value', () => {
    const rnd = seededRandom(24);
    const tries = (bytes: Uint8Array): void => {
      let value: unknown;
      try {
        value = codec.decode(bytes);
      } catch (err) {
        expect(isProjectionError(err, ProjectionErrorCodes.UndecodableEvent), String(err)).toBe(true);
        return;
      }
      // accepted: it is an event of the schema, all of it (a changed number stays a number of its field)
      expect(codec.decode(codec.encode(value as never))).toEqual(value);
    };
    for (let n = 0; n < 3000; n++) {
      const length = Math.floor(rnd() * 40);
      tries(Uint8Array.from({ length }, (_, i) => (i === 0 && rnd() < 0.8 ? BINARY_EVENT_MARKER : Math.floor(rnd() * 256))));
      const damaged = Uint8Array.from(valid);
      const at = Math.floor(rnd() * damaged.length);
      damaged[at] = damaged[at]! ^ (1 << Math.floor(rnd() * 8));
      tries(damaged);
    }
  });
});

function undecodable2(c: ReturnType<typeof binaryCodec>, bytes: Uint8Array): void {
  expectTyped(() => c.decode(bytes), ProjectionErrorCodes.UndecodableEvent);
}

describe('binaryCodec: a schema that is not one is PROJECTION_INVALID_ARGUMENT', () => {
  const bad: Array<[string, unknown]> = [
    ['no schema', undefined],
    ['no types', { types: {} }],
    ['types an array', { types: [] }],
    ['an unknown field type', { types: { A: { x: 'number' } } }],
    ['a list of two', { types: { A: { x: ['int', 'int'] } } }],
    ['optional twice', { types: { A: { x: { optional: 'int?' } } } }],
    ['a field named like the type field', { types: { A: { type: 'string' } } }],
    ['a field named __proto__', { types: { A: JSON.parse('{"__proto__": "int"}') as object } }],
    ['an empty type field', { typeField: '', types: { A: {} } }],
    ['fields that are not an object', { types: { A: 'string' } }],
  ];
  it.each(bad)('%s', (_what, schema) => expectTyped(() => binaryCodec(schema as BinarySchema), ProjectionErrorCodes.InvalidArgument));
});

describe('binaryCodec in a projection', () => {
  it('a rebuild decodes the log with it; a payload of another codec fails the rebuild with PROJECTION_APPLY_FAILED naming the offset, the state kept', async () => {
    const orders = binaryCodec<{ type: 'Placed' | 'Cancelled'; id: string; qty: number }>({ types: { Placed: { id: 'string', qty: 'int' }, Cancelled: { id: 'string', qty: 'int' } } });
    const log = new InMemoryLog();
    await log.appendBatch([orders.encode({ type: 'Placed', id: 'o1', qty: 3 }), orders.encode({ type: 'Placed', id: 'o2', qty: 2 }), orders.encode({ type: 'Cancelled', id: 'o1', qty: 3 })]);
    const open: Projection<Record<string, number>, { type: string; id: string; qty: number }> = {
      name: 'open-orders',
      version: 1,
      codec: orders,
      initialState: () => ({}),
      apply: (state, e) => {
        if (e.type === 'Placed') state[e.id] = e.qty;
        else delete state[e.id];
        return state;
      },
    };
    const store = new InMemorySnapshotStore();
    const engine = new ProjectionEngine({ log, store, logger: quiet });
    engine.register(open);
    await engine.start({ follow: false });
    await engine.stop();
    expect(engine.query(open.name).state).toEqual({ o2: 2 });
    const saved = store.load(open.name);

    const { offset } = await log.append(jsonCodec.encode({ type: 'Placed', id: 'o3', qty: 1 }));
    const err = await engine.rebuild(open.name).catch((e: unknown) => e);
    expect(isProjectionError(err, ProjectionErrorCodes.ApplyFailed), String(err)).toBe(true);
    expect((err as Error).message).toContain(`offset ${offset}`);
    expect(isProjectionError((err as Error).cause, ProjectionErrorCodes.UndecodableEvent)).toBe(true);
    expect(store.load(open.name)).toEqual(saved);
  });
});
