import { decodeHeader, KIND_TOMBSTONE } from '@episteme/store/internals';
import type { JetStreamHandles } from '../handles.js';
import { positionAfter } from '../log/positions.js';
import { leaderStreamInfo } from '../streamLayout.js';

/** An event stream as its last message says: what an append checks its expected version against. */
export interface StreamTail {
  /** The stream's version (0: none, or deleted). */
  version: number;
  deleted: boolean;
  /** The JetStream sequence of the subject's last message (0: none). */
  lastSeq: number;
  /**
   * The whole stream's last sequence, read before the subject's last
   * message: the append's expected last sequence. Server 2.9.10 does not
   * fence concurrent publishes by the subject's last sequence on a
   * replicated stream (both of two racing writers were stored, 200 times
   * in 200: notes/jetstream.md), but does by the stream's; so an append
   * expects the whole stream unchanged since it read the version.
   */
  streamLastSeq: number;
  /** That message's payload (a commit or a tombstone), when there is one. */
  payload: Uint8Array | undefined;
}

/** Reads the stream's last sequence, then the last message on an event stream's subject (in that order: see streamLastSeq). */
export async function readTail({ jsm }: JetStreamHandles, jsStream: string, subject: string): Promise<StreamTail> {
  const streamLastSeq = (await leaderStreamInfo(jsm, jsStream)).state.last_seq;
  let last;
  try {
    last = await jsm.streams.getMessage(jsStream, { last_by_subj: subject });
  } catch (error) {
    if (/no message found|not found/i.test((error as Error).message)) last = null;
    else throw error;
  }
  if (last === null) return { version: 0, deleted: false, lastSeq: 0, streamLastSeq, payload: undefined };
  const header = decodeHeader(last.data, positionAfter(last.seq - 1));
  if (header.kind === KIND_TOMBSTONE) return { version: 0, deleted: true, lastSeq: last.seq, streamLastSeq, payload: last.data };
  return { version: header.firstPosition + header.count - 1, deleted: false, lastSeq: last.seq, streamLastSeq, payload: last.data };
}
