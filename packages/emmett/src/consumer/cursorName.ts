import { createHash } from 'node:crypto';

/**
 * The name of the Episteme cursor that holds an Emmett processor's
 * checkpoint. Processor ids are free strings (`emt:processor:projector:carts`)
 * and cursor names become file names (letters, digits, `.`, `_`, `-`, at most
 * 64): the id's allowed characters for a reader, and a hash of the whole id
 * so that two ids never share a cursor.
 */
export function cursorNameOf(processorId: string): string {
  const readable = processorId.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 36);
  const hash = createHash('sha256').update(processorId).digest('hex').slice(0, 16);
  return `emmett.${readable}${readable ? '.' : ''}${hash}`;
}
