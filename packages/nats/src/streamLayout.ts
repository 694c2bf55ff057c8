import { StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { NatsClusterError, NatsErrorCodes } from './errors.js';
import { retryTransient } from './transient.js';

/** JetStream's own rule for stream names, kept stricter: letters, digits, `-` and `_`. */
const STREAM_NAME = /^[A-Za-z0-9_-]{1,200}$/;
/** Subject tokens Episteme writes: no wildcards, no spaces. */
const SUBJECT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function checkStreamName(stream: unknown): string {
  if (typeof stream !== 'string' || !STREAM_NAME.test(stream)) {
    throw new NatsClusterError(NatsErrorCodes.InvalidArgument, `invalid stream name ${JSON.stringify(String(stream))}: letters, digits, - and _ only`);
  }
  return stream;
}

export function checkSubject(subject: unknown): string {
  if (typeof subject !== 'string' || !SUBJECT.test(subject) || subject.length > 255) {
    throw new NatsClusterError(NatsErrorCodes.InvalidArgument, `invalid subject ${JSON.stringify(String(subject))}: dot-separated tokens of letters, digits, - and _`);
  }
  return subject;
}

export interface StreamLayout {
  stream: string;
  /** The one subject filter the stream must have (`episteme.<stream>.log`, or `<prefix>.>` for the store). */
  subjects: string[];
  /** Replicas when the stream is created (default 3). */
  replicas?: number;
  deadlineMs?: number;
}

/**
 * The stream's info, creating it with `layout` when missing. An existing
 * stream with other subjects is refused (NATS_STREAM_LAYOUT), never changed.
 */
export async function ensureStream(jsm: JetStreamManager, layout: StreamLayout): Promise<StreamInfo> {
  const info = await retryTransient(
    async () => {
      const found = await streamInfoOrUndefined(jsm, layout.stream);
      if (found !== undefined) return found;
      try {
        return await jsm.streams.add({ name: layout.stream, subjects: layout.subjects, num_replicas: layout.replicas ?? 3, storage: StorageType.File });
      } catch (error) {
        // an earlier attempt that timed out here may have created it: look again
        if (/already in use/i.test((error as Error).message)) return await leaderStreamInfo(jsm, layout.stream);
        throw error;
      }
    },
    { what: `stream ${layout.stream}`, ...deadline(layout) },
  );
  const have = [...(info.config.subjects ?? [])].sort();
  const want = [...layout.subjects].sort();
  if (have.length !== want.length || have.some((s, i) => s !== want[i])) {
    throw new NatsClusterError(NatsErrorCodes.StreamLayout, `stream ${layout.stream} exists with subjects [${have.join(', ')}], not [${want.join(', ')}]: use another stream name`);
  }
  return info;
}

/**
 * The stream's info as its leader gives it. A replica restarted after a
 * kill answers an info request itself while it knows no leader, with its
 * own stale state (measured on 2.9.10: 6,267 messages where the leader held
 * 30,000); such an answer names no leader and is refused here as a
 * transient failure, so callers retry until the leader answers.
 */
export async function leaderStreamInfo(jsm: JetStreamManager, stream: string): Promise<StreamInfo> {
  const info = await jsm.streams.info(stream);
  if (info.cluster !== undefined && !info.cluster.leader) throw new LeaderlessAnswerError(stream);
  return info;
}

/** A stream info answer from a replica that knows no leader (see leaderStreamInfo): retried, never used. */
export class LeaderlessAnswerError extends Error {
  override readonly name = 'LeaderlessAnswerError';
  constructor(stream: string) {
    super(`stream ${stream}: the answer came from a replica that knows no leader (its state may be stale)`);
  }
}

/** The stream's info from its leader, or undefined when it does not exist. */
export async function streamInfoOrUndefined(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  try {
    return await leaderStreamInfo(jsm, stream);
  } catch (error) {
    if ((error as Error).name === 'StreamNotFoundError' || /stream not found/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

function deadline(layout: StreamLayout): { deadlineMs?: number } {
  return layout.deadlineMs !== undefined ? { deadlineMs: layout.deadlineMs } : {};
}
