import { createHash } from 'node:crypto';

/**
 * One subject per event stream: `<prefix>.<name as base64url>`. A stream
 * name may hold characters a subject token cannot (`.`, `*`, `>`, spaces
 * are refused or mean something there); base64url has none of them.
 */
export function subjectOf(prefix: string, stream: string): string {
  return `${prefix}.${Buffer.from(stream, 'utf8').toString('base64url')}`;
}

/** The subjects of every event stream under `prefix`: the JetStream stream's one filter. */
export function allSubjects(prefix: string): string {
  return `${prefix}.>`;
}

/**
 * The message id of a commit whose caller gave event ids: the same ids on
 * the same stream give the same id, so JetStream's deduplication window
 * answers a retry; a commit of generated ids gets a fresh one per call.
 */
export function commitMsgId(stream: string, givenIds: readonly string[], fresh: () => string): string {
  if (givenIds.length === 0) return fresh();
  const h = createHash('sha256').update(stream).update('\0');
  for (const id of givenIds) h.update(id).update('\0');
  return h.digest('base64url');
}
