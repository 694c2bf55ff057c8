#!/usr/bin/env node
/**
 * Carries assertions over from a data directory of an earlier version of
 * the app (one plain JSON record per event; this version refuses it with
 * APP_LEGACY_DATA) into lines for `episteme import`:
 *
 *   npx episteme --data ./old-data --json wal dump \
 *     | node apps/demo/scripts/legacyAssertions.mjs > assertions.ndjson
 *   npx episteme --data ./new-data import assertions.ndjson
 *
 * It reads `wal dump --json` on stdin and prints the assertions that stand
 * at the end of the old log (made, and not retracted since), with their ids
 * and assertedAt: retracted ones and the retractions themselves are left
 * out (an import appends assertions only). A record that is not an
 * assertion event is reported on stderr and skipped.
 */
import { createInterface } from 'node:readline';

const standing = new Map();
let skipped = 0;
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  const { offset, payload } = JSON.parse(line);
  let event;
  try {
    event = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  } catch {
    event = undefined;
  }
  if (event?.type === 'AssertionMade' && typeof event.data?.id === 'string') {
    standing.delete(event.data.id); // a reused id: the later assertion is the one that stands, in log order
    standing.set(event.data.id, event.data);
  } else if (event?.type === 'AssertionRetracted' && typeof event.data?.assertionId === 'string') {
    standing.delete(event.data.assertionId);
  } else {
    skipped++;
    process.stderr.write(`offset ${offset}: not an assertion event of the earlier app; skipped\n`);
  }
}
for (const { id, subject, predicate, object, confidence, source, assertedAt } of standing.values()) {
  process.stdout.write(JSON.stringify({ id, subject, predicate, object, confidence, source, assertedAt }) + '\n');
}
process.stderr.write(`${standing.size} standing assertion(s) written${skipped > 0 ? `, ${skipped} record(s) skipped` : ''}\n`);
