import type { JetStreamManager } from '@nats-io/jetstream';
import { NatsClusterError, NatsErrorCodes } from '../errors.js';
import { relayedPositions } from '../messageHeaders.js';
import { retryTransient } from '../transient.js';
import { leaderStreamInfo } from '../streamLayout.js';

/** Where a relay continues: the stream's last sequence and the journal position after the record it holds. */
export interface ResumePoint {
  /** The stream's last sequence (0 when it never held a message). */
  lastSeq: number;
  /** The journal position to ship next, or undefined when the stream never held a message (ship from the earliest record). */
  next: number | undefined;
}

/**
 * Reads where the stream ends, from the stream itself: the last stored
 * message's `Episteme-Next`. This is the only resume point a relay trusts;
 * a local file could be behind (a kill after a publish) or ahead (a lost
 * acknowledgement).
 */
export async function readResumePoint(jsm: JetStreamManager, stream: string, deadlineMs: number | undefined): Promise<ResumePoint> {
  return await retryTransient(
    async () => {
      const info = await leaderStreamInfo(jsm, stream);
      const lastSeq = info.state.last_seq;
      if (lastSeq === 0) return { lastSeq, next: undefined };
      if (info.state.messages === 0) {
        throw new NatsClusterError(NatsErrorCodes.HistoryDeleted, `stream ${stream} was purged up to its last message ${lastSeq}: where the journal was shipped to is gone, so a relay cannot resume`);
      }
      const last = await jsm.streams.getMessage(stream, { seq: lastSeq });
      if (last === null) throw new NatsClusterError(NatsErrorCodes.HistoryDeleted, `stream ${stream}: its last message ${lastSeq} is gone`);
      return { lastSeq, next: relayedPositions(last.header, stream, lastSeq).next };
    },
    { what: `reading where stream ${stream} ends`, ...(deadlineMs !== undefined ? { deadlineMs } : {}) },
  );
}
