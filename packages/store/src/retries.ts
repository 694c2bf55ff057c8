import type { Journal } from '@episteme/wal';
import { bufferOf, decodeEvents, decodeHeader, type StoredEvent } from './commit/decodeCommit.js';
import { KIND_COMMIT } from './commit/layout.js';
import type { PreparedCommit, PreparedEvent } from './commit/encodeCommit.js';
import { DuplicateEventIdError } from './errors.js';
import type { IdempotencyWindow } from './idempotencyWindow.js';
import type { AppendResult } from './types.js';

/** What the ids of a new commit say about it. */
export type RetryCheck =
  | { kind: 'new' }
  /** The same commit is in the log: its original result. */
  | { kind: 'retry'; result: AppendResult }
  /** A write carrying one of the ids is still on its way: wait for it, then look again. */
  | { kind: 'wait'; settled: Promise<unknown> };

function sameContent(payload: Buffer, stored: StoredEvent, e: PreparedEvent): boolean {
  if (stored.type !== e.type || stored.bytes !== (typeof e.data !== 'string')) return false;
  const meta = payload.subarray(stored.metadataStart, stored.metadataEnd);
  if (e.metadata === undefined ? meta.length !== 0 : !meta.equals(Buffer.from(e.metadata))) return false;
  const data = payload.subarray(stored.dataStart, stored.dataEnd);
  return typeof e.data === 'string' ? data.equals(Buffer.from(e.data)) : data.equals(e.data);
}

/**
 * Looks the commit's event ids up. A commit whose every event is already
 * in one commit of the log (same stream, same ids in the same order, same
 * content) is a retry: it gets the original result, whatever expected
 * version it carries. Any other use of a known id is STORE_DUPLICATE_EVENT_ID.
 */
export function checkRetry(
  commit: PreparedCommit,
  window: IdempotencyWindow,
  pendingId: (id: string) => Promise<unknown> | undefined,
  journal: Journal,
): RetryCheck {
  let known: { id: string; at: number; index: number } | undefined;
  for (let i = 0; i < commit.events.length; i++) {
    const event = commit.events[i]!;
    if (event.generated) continue; // a fresh id: in no commit yet
    const id = event.id;
    const settled = pendingId(id);
    if (settled !== undefined) return { kind: 'wait', settled };
    const at = window.get(id);
    if (at !== undefined && known === undefined) known = { id, at, index: i };
  }
  if (known === undefined) return { kind: 'new' };
  const { stream } = commit;
  if (known.index !== 0) throw new DuplicateEventIdError(known.id, stream, 'already appended in another commit');
  let rec;
  try {
    rec = journal.read(known.at);
  } catch {
    rec = undefined;
  }
  if (rec === undefined) throw new DuplicateEventIdError(known.id, stream, 'already appended in a commit that is no longer retained');
  const header = decodeHeader(rec.payload, rec.offset);
  if (header.kind !== KIND_COMMIT || header.stream !== stream) {
    throw new DuplicateEventIdError(known.id, stream, `already appended to stream "${header.stream}"`);
  }
  const stored = decodeEvents(rec.payload, header, rec.offset);
  const payload = bufferOf(rec.payload);
  for (let i = 0; i < commit.events.length; i++) {
    const e = commit.events[i]!;
    const s = stored[i];
    if (s === undefined || s.id !== e.id) throw new DuplicateEventIdError(e.id, stream, 'the commit that holds the first id holds other events');
    if (!sameContent(payload, s, e)) throw new DuplicateEventIdError(e.id, stream, 'already appended with other content');
  }
  if (stored.length !== commit.events.length) throw new DuplicateEventIdError(known.id, stream, `already appended in a commit of ${stored.length} events`);
  return {
    kind: 'retry',
    result: {
      nextExpectedVersion: header.firstPosition + header.count - 1,
      globalPosition: rec.offset + header.count - 1,
      createdStream: header.firstPosition === 1,
      alreadyAppended: true,
    },
  };
}
