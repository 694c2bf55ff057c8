import { isEpistemeError, WalErrorCodes, type Journal } from '@episteme/wal';
import { bufferOf, decodeEvents, decodeHeader, type CommitHeader, type StoredEvent } from './commit/decodeCommit.js';
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

interface ReadCommit {
  offset: number;
  header: CommitHeader;
  stored: StoredEvent[];
  payload: Buffer;
}

/**
 * The commit record at `at`, decoded; undefined when it is no longer there
 * (cleanup deleted it, or a recovery cut moved the log under it) or is not
 * a commit. Any other failure (I/O, damage, a closed journal) is thrown: an
 * unreadable commit must not pass for one that is gone, which would answer
 * a retry of a commit that is in the log with STORE_DUPLICATE_EVENT_ID.
 */
function commitAt(journal: Journal, at: number): ReadCommit | undefined {
  let rec;
  try {
    rec = journal.read(at);
  } catch (err) {
    if (isEpistemeError(err, WalErrorCodes.OffsetOutOfRange) || isEpistemeError(err, WalErrorCodes.NotRecordBoundary)) return undefined;
    throw err;
  }
  if (rec === undefined) return undefined;
  const header = decodeHeader(rec.payload, rec.offset);
  if (header.kind !== KIND_COMMIT) return undefined;
  return { offset: rec.offset, header, stored: decodeEvents(rec.payload, header, rec.offset), payload: bufferOf(rec.payload) };
}

/**
 * Looks the commit's event ids up. A commit whose every event is already
 * in one commit of the log (same stream, same ids in the same order, same
 * content) is a retry: it gets the original result, whatever expected
 * version it carries. Any other use of a known id is STORE_DUPLICATE_EVENT_ID.
 * The window gives a commit that may hold an id (it keeps hashes); that
 * commit is read and its ids compared, so a hash collision is no match.
 */
export function checkRetry(
  commit: PreparedCommit,
  window: IdempotencyWindow,
  pendingId: (id: string) => Promise<unknown> | undefined,
  journal: Journal,
): RetryCheck {
  const { stream, events } = commit;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.generated) continue; // a fresh id: in no commit yet
    const settled = pendingId(event.id);
    if (settled !== undefined) return { kind: 'wait', settled };
  }
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.generated) continue;
    const at = window.get(event.id);
    if (at === undefined) continue;
    const found = commitAt(journal, at);
    if (found === undefined) throw new DuplicateEventIdError(event.id, stream, 'already appended in a commit that is no longer retained');
    const j = found.stored.findIndex((s) => s.id === event.id);
    if (j === -1) continue; // another id with the same hash
    if (found.header.stream !== stream) throw new DuplicateEventIdError(event.id, stream, `already appended to stream "${found.header.stream}"`);
    // a retry matches position by position (not only from the first id: a hash that collided when the
    // first id was added leaves that id out of the window, and its commit must still be found)
    if (i !== j || found.stored.length !== events.length) throw new DuplicateEventIdError(event.id, stream, 'already appended in another commit');
    for (let k = 0; k < events.length; k++) {
      const e = events[k]!;
      const s = found.stored[k]!;
      if (s.id !== e.id) throw new DuplicateEventIdError(e.id, stream, 'the commit that holds the first id holds other events');
      if (!sameContent(found.payload, s, e)) throw new DuplicateEventIdError(e.id, stream, 'already appended with other content');
    }
    const { header } = found;
    return {
      kind: 'retry',
      result: {
        nextExpectedVersion: header.firstPosition + header.count - 1,
        globalPosition: found.offset + header.count - 1,
        createdStream: header.firstPosition === 1,
        alreadyAppended: true,
      },
    };
  }
  return { kind: 'new' };
}
