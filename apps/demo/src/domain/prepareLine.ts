import { ValidationFailedError } from './events.js';
import { prepareOwnedAssertion, type PreparedAssertion } from './prepare.js';

/** An import line as an event ready to append, and whether the line named its id (only those can collide). */
export interface PreparedLine extends PreparedAssertion {
  givenId: boolean;
}

/**
 * One NDJSON line of an import as an event ready to append, or why it is
 * not one (the message reported for that line). Pure: it runs on the main
 * thread or in an import worker with the same result.
 */
export function prepareLine(line: string, producer: string): PreparedLine | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'not a JSON object (one assertion per line: {"subject", "predicate", "object", "confidence", "source"[, "id"]})';
  }
  try {
    const givenId = (value as { id?: unknown }).id != null;
    // the parse is this line's own: filled in place, not copied
    const { id, stream, event } = prepareOwnedAssertion(value as Record<string, unknown>, producer);
    return { id, stream, event, givenId };
  } catch (err) {
    if (err instanceof ValidationFailedError) return err.message;
    throw err;
  }
}
