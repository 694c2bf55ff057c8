/**
 * A map from user-supplied strings (ids, subjects, sources) as an object
 * without a prototype: every key is just a key. On a plain object, `toString`
 * or `constructor` would read as built-in functions and `__proto__` would
 * replace the prototype. It stays plain JSON for snapshots.
 */
export function dictionary<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** A dictionary from a snapshot's data (JSON.parse makes objects with a prototype; its own keys, `__proto__` too, carry over). */
export function toDictionary<V>(data: Record<string, V> | undefined, value: (v: V) => V = (v) => v): Record<string, V> {
  const out = dictionary<V>();
  for (const key of Object.keys(data ?? {})) out[key] = value(data![key]!);
  return out;
}
