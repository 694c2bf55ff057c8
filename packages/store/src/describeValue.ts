/**
 * A value as an error message quotes it. Never throws: a BigInt (which
 * `JSON.stringify` refuses) or a cycle must still get the typed error that
 * describes it, not a TypeError from building its message.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
