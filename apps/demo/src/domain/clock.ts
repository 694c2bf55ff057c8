/**
 * The time the app stamps on an event it makes (assertedAt, retractedAt
 * when the input leaves them out), as ISO 8601. Its string is made once per
 * millisecond, not once per event: under load thousands of events share a
 * millisecond, and each `toISOString` costs more than the rest of their
 * timestamping. The value is the same as `new Date().toISOString()`.
 */
let lastMs = -1;
let lastIso = '';

export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
