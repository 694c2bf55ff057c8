import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { NatsClusterError, NatsErrorCodes } from './errors.js';

/**
 * The headers of a relayed record: where it starts and where the next one
 * starts in the journal. A restarted relay resumes from the last stored
 * message's `Episteme-Next`, so the stream, not a local file, says what was shipped.
 */
export const OFFSET_HEADER = 'Episteme-Offset';
export const NEXT_HEADER = 'Episteme-Next';
export const MSG_ID_HEADER = 'Nats-Msg-Id';
export const EXPECTED_LAST_SEQUENCE_HEADER = 'Nats-Expected-Last-Sequence';
export const EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER = 'Nats-Expected-Last-Subject-Sequence';

/** A record's headers: its journal offset is its message id; `expectedLastSequence` fences out any other writer. */
export function recordHeaders(offset: number, next: number, expectedLastSequence: number): MsgHdrs {
  const h = headers();
  h.set(MSG_ID_HEADER, String(offset));
  h.set(OFFSET_HEADER, String(offset));
  h.set(NEXT_HEADER, String(next));
  h.set(EXPECTED_LAST_SEQUENCE_HEADER, String(expectedLastSequence));
  return h;
}

export interface RelayedPositions {
  offset: number;
  next: number;
}

/** The journal positions a stored message carries; NATS_FOREIGN_MESSAGE when it has none (not a stream a relay wrote). */
export function relayedPositions(h: MsgHdrs | undefined, stream: string, seq: number): RelayedPositions {
  const offset = positionHeader(h, OFFSET_HEADER);
  const next = positionHeader(h, NEXT_HEADER);
  if (offset === undefined || next === undefined || next <= offset) {
    throw new NatsClusterError(NatsErrorCodes.ForeignMessage, `message ${seq} of stream ${stream} has no valid ${OFFSET_HEADER}/${NEXT_HEADER} headers: not a stream an Episteme relay wrote`);
  }
  return { offset, next };
}

function positionHeader(h: MsgHdrs | undefined, name: string): number | undefined {
  const text = h?.get(name);
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
