import { InvalidProjectionArgumentError } from '../errors.js';

/**
 * The type of one field of a binary codec's schema:
 * - `'string'`: UTF-8 text;
 * - `'int'`: a safe integer (|n| < 2^53);
 * - `'float'`: any number, as its 8 bytes (NaN, infinities and -0 kept);
 * - `'bool'`;
 * - `'json'`: any JSON value, kept as its JSON text (what `JSON.stringify`
 *   makes of it comes back, as with the JSON codec);
 * - a nested object: `{ field: type, ... }`, exactly those fields;
 * - a list: `[type]`, any length;
 * - optional: a scalar type with `?` (`'string?'`), or `{ optional: type }`
 *   for a nested object or list: the field may be absent (or undefined).
 */
export type BinaryFieldType = BinaryScalar | `${BinaryScalar}?` | BinaryFields | [BinaryFieldType] | { optional: BinaryFieldType };
export type BinaryScalar = 'string' | 'int' | 'float' | 'bool' | 'json';
export interface BinaryFields {
  [field: string]: BinaryFieldType;
}

/**
 * A binary codec's schema: the fields of each event type. The type's index
 * in `types` is what a payload stores, and each field is stored by its place
 * in the type's list, not by name: the schema is part of the data. Add new
 * types at the end; never reorder, rename or retype a type's fields (a
 * changed event is a new type). Decoding with another schema is refused
 * where the bytes do not fit it, and may otherwise make other values.
 */
export interface BinarySchema {
  /** The event's field naming its type (default `'type'`): a string, the key of `types`. */
  typeField?: string;
  types: Record<string, BinaryFields>;
}

/** A field type compiled: what the encoder and decoder walk. */
export type Shape =
  | { kind: 'string' | 'int' | 'float' | 'bool' | 'json' }
  | { kind: 'object'; keys: string[]; fields: Shape[]; known: Set<string>; template?: Record<string, unknown> }
  | { kind: 'list'; item: Shape }
  | { kind: 'optional'; value: Shape };

export interface CompiledType {
  name: string;
  index: number;
  shape: Extract<Shape, { kind: 'object' }>;
  /** The event with every field present, copied to start a decoded one (see templateOf). */
  template?: Record<string, unknown>;
}

export interface CompiledSchema {
  typeField: string;
  byIndex: CompiledType[];
  byName: Map<string, CompiledType>;
}

const SCALARS = new Set(['string', 'int', 'float', 'bool', 'json']);
/** Types per schema at most (a type index is then at most two bytes). */
export const MAX_TYPES = 1 << 14;

/** Checks a schema and compiles it; InvalidProjectionArgumentError naming the first mistake. */
export function compileSchema(schema: BinarySchema): CompiledSchema {
  if (schema === null || typeof schema !== 'object') throw new InvalidProjectionArgumentError('a binary codec needs a schema object');
  const typeField = schema.typeField ?? 'type';
  if (typeof typeField !== 'string' || typeField === '') throw new InvalidProjectionArgumentError('typeField must be a non-empty string');
  if (schema.types === null || typeof schema.types !== 'object' || Array.isArray(schema.types)) {
    throw new InvalidProjectionArgumentError('schema.types must be an object of event types');
  }
  const names = Object.keys(schema.types);
  if (names.length === 0) throw new InvalidProjectionArgumentError('schema.types names no event type');
  if (names.length > MAX_TYPES) throw new InvalidProjectionArgumentError(`schema.types has ${names.length} types, more than ${MAX_TYPES}`);
  const byIndex = names.map((name, index): CompiledType => {
    const shape = compileFields(schema.types[name], `types.${name}`);
    if (shape.known.has(typeField)) throw new InvalidProjectionArgumentError(`types.${name} has a field named like the type field "${typeField}"`);
    const template = shape.template ? { [typeField]: name, ...shape.template } : undefined;
    return { name, index, shape, ...(template ? { template } : {}) };
  });
  return { typeField, byIndex, byName: new Map(byIndex.map((t) => [t.name, t])) };
}

function compile(type: unknown, path: string): Shape {
  if (typeof type === 'string') {
    const optional = type.endsWith('?');
    const base = optional ? type.slice(0, -1) : type;
    if (!SCALARS.has(base)) throw new InvalidProjectionArgumentError(`${path}: unknown field type ${JSON.stringify(type)}`);
    const shape = { kind: base as BinaryScalar };
    return optional ? { kind: 'optional', value: shape } : shape;
  }
  if (Array.isArray(type)) {
    if (type.length !== 1) throw new InvalidProjectionArgumentError(`${path}: a list type is [itemType], one element`);
    return { kind: 'list', item: compile(type[0], `${path}[]`) };
  }
  if (type !== null && typeof type === 'object') {
    const keys = Object.keys(type);
    if (keys.length === 1 && keys[0] === 'optional') {
      const value = compile((type as { optional: unknown }).optional, `${path}?`);
      if (value.kind === 'optional') throw new InvalidProjectionArgumentError(`${path}: optional twice`);
      return { kind: 'optional', value };
    }
    return compileFields(type, path);
  }
  throw new InvalidProjectionArgumentError(`${path}: a field type is a string, an object of fields or [itemType], not ${String(type)}`);
}

function compileFields(fields: unknown, path: string): Extract<Shape, { kind: 'object' }> {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new InvalidProjectionArgumentError(`${path}: the fields of an object are an object of field types`);
  }
  const keys = Object.keys(fields);
  // assigned by name when decoding: this one would set the object's prototype instead of a field
  if (keys.includes('__proto__')) throw new InvalidProjectionArgumentError(`${path}: a field cannot be named __proto__`);
  const shapes = keys.map((k) => compile((fields as Record<string, unknown>)[k], `${path}.${k}`));
  return { kind: 'object', keys, fields: shapes, known: new Set(keys), ...templateOf(keys, shapes) };
}

/**
 * An object with every field, to copy when decoding: a copy of one object
 * shape is a fast clone, and the fields are then stored into slots that
 * exist, where adding each field to `{}` cost a shape transition each. Not
 * for objects with an optional field (an absent one is left out).
 */
function templateOf(keys: string[], shapes: Shape[]): { template?: Record<string, unknown> } {
  if (shapes.some((s) => s.kind === 'optional')) return {};
  return { template: Object.fromEntries(keys.map((k) => [k, null])) };
}
