import { ConsumerRegistry, validateConsumerName } from '@episteme/consumers';
import { Journal, JournalReader, type LogReader } from '@episteme/wal';
import { sleep } from '@episteme/wal/internals';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectCluster, type NatsConnectOptions } from '../connection.js';
import { checkNatsOptionKeys } from '../optionKeys.js';
import { NatsClusterError, NatsErrorCodes } from '../errors.js';
import { PublishWindow } from '../publishWindow.js';
import { jetStreamHandles } from '../handles.js';
import { checkStreamName, checkSubject, ensureStream } from '../streamLayout.js';
import { readResumePoint, type ResumePoint } from './resumePoint.js';
import { shipPass, type ShipState } from './shipPass.js';

export interface RelayOptions extends Partial<NatsConnectOptions> {
  /** The JetStream stream to ship into (created with `replicas` when missing). */
  stream: string;
  /** The subject of the relayed records (default `episteme.<stream>`); the stream must have exactly this subject. */
  subject?: string;
  /** Replicas of a stream the relay creates (default 3). */
  replicas?: number;
  /** An open connection to use instead of `servers` (it stays open). */
  connection?: NatsConnection;
  /** Keep shipping new records until `signal` aborts (default false: ship up to the head, then resolve). */
  follow?: boolean;
  signal?: AbortSignal;
  /** Publishes in flight at most (default 1024). */
  window?: number;
  /** The registry the relay's cursor lives in (default: the journal's, for a Journal or JournalReader). */
  registry?: ConsumerRegistry;
  /** The relay's consumer name (default `relay-<stream>`). */
  consumerName?: string;
  /** Called about once per `progressEveryMs` (default 1 s) and at the end. */
  onProgress?: (progress: RelayProgress) => void;
  progressEveryMs?: number;
  /** Milliseconds the cluster may stay unavailable (no leader, no responders) before NATS_UNAVAILABLE (default 60 s). */
  deadlineMs?: number;
}

export interface RelayProgress {
  /** Records acknowledged by the stream in this run. */
  shipped: number;
  /** The journal position after the last acknowledged record (the relay's cursor). */
  position: number;
  /** The journal's head as last seen. */
  head: number;
  /** Journal bytes not yet shipped. */
  lagBytes: number;
  /** The stream's last sequence as acknowledged. */
  streamSeq: number;
  /** Times the relay re-read where the stream ends (after a failover or a refused publish). */
  resyncs: number;
}

export type RelayResult = RelayProgress;

/**
 * Ships every record of a log into a JetStream stream in log order, exactly
 * once (the transactional outbox: the journal is the outbox, the stream the
 * destination). Each message carries its journal offset as `Nats-Msg-Id`
 * and in headers, and expects the stream's last sequence to be the one
 * before it, so a second relay or a replayed publish is refused rather than
 * stored twice. After any failure (a failover, a kill of this process) the
 * relay re-reads where the stream ends, from its last message, and goes on
 * from there: never from a local guess. It is a registered consumer of the
 * journal, so cleanup keeps what it has not shipped, and its lag shows in
 * `consumers list`.
 */
/** RelayOptions' own keys, each listed once (the compiler checks). */
const RELAY_KEYS: Record<Exclude<keyof RelayOptions, keyof NatsConnectOptions>, true> = {
  stream: true,
  subject: true,
  replicas: true,
  connection: true,
  follow: true,
  signal: true,
  window: true,
  registry: true,
  consumerName: true,
  onProgress: true,
  progressEveryMs: true,
  deadlineMs: true,
};
const RELAY_OPTION_KEYS: readonly string[] = Object.keys(RELAY_KEYS);

export async function runRelay(reader: LogReader, options: RelayOptions): Promise<RelayResult> {
  checkNatsOptionKeys('runRelay', options, RELAY_OPTION_KEYS);
  const stream = checkStreamName(options.stream);
  const subject = checkSubject(options.subject ?? `episteme.${stream}`);
  const name = options.consumerName ?? `relay-${stream}`;
  validateConsumerName(name);
  const registry = options.registry ?? journalRegistry(reader);
  const deadlineMs = options.deadlineMs ?? 60_000;

  const nc = options.connection ?? (await connectCluster({ ...options, servers: options.servers ?? [] }));
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const window = new PublishWindow(nc, { ...(options.window !== undefined ? { window: options.window } : {}) });
  const ship: ShipState = { shipped: 0, position: 0, streamSeq: 0 };
  let resyncs = 0;
  const progress = (): RelayProgress => ({ ...ship, head: reader.head, lagBytes: Math.max(0, reader.head - ship.position), resyncs });
  let committed = -1;
  const commitCursor = (state: 'running' | 'stopped' = 'running'): void => {
    if (ship.position === committed && state === 'running') return;
    const current = registry.get(name).cursor;
    // the stream is the truth: a cursor file ahead of it (a stream recreated by an operator) moves back
    if (ship.position < current) registry.reset(name, ship.position);
    registry.commit(name, ship.position, state === 'running' ? { state, pid: process.pid } : { state });
    committed = ship.position;
  };
  let ticker: NodeJS.Timeout | undefined;
  let tickError: unknown;

  try {
    const { jsm } = await jetStreamHandles(nc, deadlineMs, signal);
    await ensureStream(jsm, { stream, subjects: [subject], ...(options.replicas !== undefined ? { replicas: options.replicas } : {}), deadlineMs });
    // checked before anything is written: a stream of another journal, or foreign messages, change nothing here
    let resume = await readResumePoint(jsm, stream, deadlineMs);
    checkResume(reader, stream, resume);
    registry.register(name, { startFrom: 'earliest' });
    // a cursor commit that fails (the disk under the cursor files) stops the relay with that error
    ticker = setInterval(() => {
      try {
        commitCursor();
        options.onProgress?.(progress());
      } catch (error) {
        tickError ??= error;
        stop.abort();
      }
    }, options.progressEveryMs ?? 1_000);

    let lastProgressAt = Date.now();
    for (;;) {
      ship.position = checkResume(reader, stream, resume);
      ship.streamSeq = resume.lastSeq;
      commitCursor();
      const before = ship.shipped;
      const outcome = await shipPass(reader, window, subject, ship, { follow: options.follow === true, signal });
      if (tickError !== undefined) throw tickError;
      if (outcome.kind === 'done') break;
      if (outcome.kind === 'refused') {
        throw new NatsClusterError(NatsErrorCodes.PublishRefused, `stream ${stream} refused a record (${outcome.description})`);
      }
      // a failover or another writer: re-read where the stream ends, after a pause when nothing moved
      resyncs++;
      if (ship.shipped > before) lastProgressAt = Date.now();
      else if (Date.now() - lastProgressAt > deadlineMs) {
        throw new NatsClusterError(NatsErrorCodes.Unavailable, `stream ${stream} accepted no record for ${deadlineMs} ms (${outcome.description})`);
      } else await sleep(Math.min(1_000, 50 * resyncs), signal);
      resume = await readResumePoint(jsm, stream, deadlineMs);
    }
    commitCursor('stopped');
    return progress();
  } finally {
    clearInterval(ticker);
    window.close();
    if (committed >= 0) options.onProgress?.(progress());
    if (options.connection === undefined) await nc.close();
  }
}

function journalRegistry(reader: LogReader): ConsumerRegistry {
  if (reader instanceof Journal || reader instanceof JournalReader) return ConsumerRegistry.forJournal(reader, { autoCleanup: false });
  throw new NatsClusterError(NatsErrorCodes.InvalidArgument, 'runRelay over a log that is not a journal needs options.registry (where its cursor lives)');
}

/** The journal position to ship next, refused when the stream and the journal disagree. */
function checkResume(reader: LogReader, stream: string, resume: ResumePoint): number {
  reader.refresh();
  const start = resume.next ?? reader.earliest;
  if (start > reader.head) {
    throw new NatsClusterError(
      NatsErrorCodes.StreamAhead,
      `stream ${stream} holds records up to journal position ${start}, beyond this journal's head ${reader.head}: another journal was relayed into it, or recovery cut this one`,
    );
  }
  if (start < reader.earliest) {
    throw new NatsClusterError(NatsErrorCodes.HistoryDeleted, `stream ${stream} ends at journal position ${start}, but the journal keeps records from ${reader.earliest} only: what lies between was deleted unshipped`);
  }
  if (start !== reader.head && reader.boundaryAtOrBefore(start) !== start) {
    throw new NatsClusterError(NatsErrorCodes.StreamAhead, `stream ${stream} ends at journal position ${start}, which does not start a record of this journal`);
  }
  return start;
}
