import { DuplicateEventIdError, matchesExpectedVersion, StreamDeletedError, VersionConflictError, type AppendResult, type ExpectedVersion } from '@episteme/store';
import { decodeEvents, decodeHeader, encodeCommit, KIND_COMMIT, type CommitHeader, type PreparedCommit } from '@episteme/store/internals';
import { sleep } from '@episteme/wal/internals';
import type { JetStreamHandles } from '../handles.js';
import { NatsClusterError, NatsErrorCodes } from '../errors.js';
import { positionAfter } from '../log/positions.js';
import { WRONG_LAST_SEQUENCE } from '../publishWindow.js';
import { isTransient } from '../transient.js';
import { readTail, type StreamTail } from './streamTail.js';

export interface CommitTarget {
  handles: JetStreamHandles;
  jsStream: string;
  subject: string;
  stream: string;
}

export interface CommitIntent {
  prepared: PreparedCommit;
  expected: ExpectedVersion;
  recreate: boolean;
  msgId: string;
  /** Milliseconds of transient failures (a failover) before NATS_UNAVAILABLE. */
  deadlineMs: number;
}

/**
 * One commit as one message on the event stream's subject. The expected
 * version is checked against the subject's last message, and the publish
 * expects the whole stream unchanged since (`Nats-Expected-Last-Sequence`:
 * see StreamTail.streamLastSeq for why not the subject's), so of two
 * writers that read the same version one wins and the other gets a typed
 * conflict; a publish refused because another stream moved reads again. The message id makes a retry
 * (ours after a failover, or the caller's with the same event ids) resolve
 * to the commit already stored.
 */
export async function appendCommit(target: CommitTarget, intent: CommitIntent): Promise<AppendResult> {
  const deadline = Date.now() + intent.deadlineMs;
  // an earlier attempt of this call published, and may have been stored although its answer was lost
  let publishedBefore = false;
  let publishing = false;
  let pause = 50;
  for (;;) {
    publishedBefore ||= publishing;
    publishing = false;
    try {
      const tail = await readTail(target.handles, target.jsStream, target.subject);
      const retried = sameCommitAsTail(target, intent.prepared, tail);
      if (retried !== undefined) return publishedBefore ? ownAppend(retried) : retried;
      if (tail.deleted && !intent.recreate) throw new StreamDeletedError(target.stream);
      if (!matchesExpectedVersion(intent.expected, tail.version)) throw new VersionConflictError(target.stream, intent.expected, tail.version);
      const firstPosition = tail.version + 1;
      const payload = encodeCommit(intent.prepared, firstPosition, Date.now());
      publishing = true;
      const ack = await target.handles.js.publish(target.subject, payload, {
        msgID: intent.msgId,
        expect: { lastSequence: tail.streamLastSeq },
        timeout: 5_000,
      });
      if (ack.duplicate) return await duplicateResult(target, intent.prepared, ack.seq, publishedBefore);
      const count = intent.prepared.events.length;
      return { nextExpectedVersion: tail.version + count, globalPosition: positionAfter(ack.seq - 1) + count - 1, createdStream: firstPosition === 1 };
    } catch (error) {
      if (isWrongLastSequence(error)) continue; // another writer got in between: check the expected version again
      if (!isTransient(error)) throw error;
      if (Date.now() + pause > deadline) {
        throw new NatsClusterError(NatsErrorCodes.Unavailable, `append to stream "${target.stream}": the cluster stayed unavailable for ${intent.deadlineMs} ms (${(error as Error).message})`, { cause: error });
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 1_000);
    }
  }
}

/** Our own earlier publish, whose acknowledgement a failover took: an append, not a caller's retry. */
function ownAppend(result: AppendResult): AppendResult {
  const { alreadyAppended: _, ...appended } = result;
  return appended;
}

function isWrongLastSequence(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; code?: number; message?: string };
  return e?.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(e?.message ?? '');
}

/**
 * A retry after the duplicate window (or a reopen): the subject's last
 * commit holds exactly these event ids. The same content resolves to it;
 * other content under the same ids is a typed error.
 */
function sameCommitAsTail(target: CommitTarget, prepared: PreparedCommit, tail: StreamTail): AppendResult | undefined {
  if (prepared.givenIds.length === 0 || tail.payload === undefined || tail.deleted) return undefined;
  return compareStored(target, prepared, tail.payload, tail.lastSeq);
}

async function duplicateResult(target: CommitTarget, prepared: PreparedCommit, seq: number, ours: boolean): Promise<AppendResult> {
  const stored = await target.handles.jsm.streams.getMessage(target.jsStream, { seq });
  const same = stored === null ? undefined : compareStored(target, prepared, stored.data, seq);
  if (same === undefined) {
    // generated ids: the id was this call's own (fresh), so the stored message is this commit
    if (prepared.givenIds.length === 0 && ours && stored !== null) return ownResultOf(stored.data, seq);
    throw new DuplicateEventIdError(prepared.givenIds[0] ?? '', target.stream, `message ${seq} holds another commit under the same message id`);
  }
  return ours ? ownAppend(same) : same;
}

function compareStored(target: CommitTarget, prepared: PreparedCommit, payload: Uint8Array, seq: number): AppendResult | undefined {
  const decoded = headerOf(payload);
  if (decoded === undefined || decoded.count !== prepared.events.length) return undefined;
  const ids = idsOf(payload, decoded);
  const given = prepared.givenIds;
  if (given.length === 0 || ids.length !== given.length || ids.some((id, i) => id !== given[i])) return undefined;
  const again = encodeCommit(prepared, decoded.firstPosition, decoded.timestamp);
  if (Buffer.compare(Buffer.from(again), Buffer.from(payload)) !== 0) {
    throw new DuplicateEventIdError(given[0]!, target.stream, 'a commit with these event ids and other content is already stored');
  }
  const last = decoded.firstPosition + decoded.count - 1;
  return { nextExpectedVersion: last, globalPosition: positionAfter(seq - 1) + decoded.count - 1, createdStream: decoded.firstPosition === 1, alreadyAppended: true };
}

function ownResultOf(payload: Uint8Array, seq: number): AppendResult {
  const header = headerOf(payload)!;
  return { nextExpectedVersion: header.firstPosition + header.count - 1, globalPosition: positionAfter(seq - 1) + header.count - 1, createdStream: header.firstPosition === 1 };
}

function headerOf(payload: Uint8Array): CommitHeader | undefined {
  try {
    const header = decodeHeader(payload, 0);
    return header.kind === KIND_COMMIT ? header : undefined;
  } catch {
    return undefined;
  }
}

function idsOf(payload: Uint8Array, header: CommitHeader): string[] {
  return decodeEvents(payload, header, 0).map((e) => e.id);
}
