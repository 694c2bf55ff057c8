import { randomUUID } from 'node:crypto';
import {
  CommitTooLargeError,
  createEventDecoder,
  StoreClosedError,
  StoreInvalidArgumentError,
  StreamDeletedError,
  StreamNotFoundError,
  matchesExpectedVersion,
  validateStreamName,
  VersionConflictError,
  type AggregateStreamOptions,
  type AggregateStreamResult,
  type AppendOptions,
  type AppendResult,
  type DeleteStreamOptions,
  type DeleteStreamResult,
  type Event,
  type EventDecoder,
  type EventStore,
  type ExpectedVersion,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type Upcaster,
} from '@episteme/store';
import { decodeHeader, encodeTombstone, KIND_TOMBSTONE, prepareCommit } from '@episteme/store/internals';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectCluster, type NatsConnectOptions } from '../connection.js';
import { checkNatsOptionKeys } from '../optionKeys.js';
import { jetStreamHandles, type JetStreamHandles } from '../handles.js';
import { positionAfter, seqBefore } from '../log/positions.js';
import { checkStreamName, ensureStream, leaderStreamInfo } from '../streamLayout.js';
import { streamMessages } from '../streamMessages.js';
import { retryTransient } from '../transient.js';
import { appendCommit, type CommitTarget } from './appendCommit.js';
import { allSubjects, commitMsgId, subjectOf } from './subjects.js';
import { readTail } from './streamTail.js';

/** ClusterStoreOptions' own keys, each listed once (the compiler checks). */
const CLUSTER_STORE_KEYS: Record<Exclude<keyof ClusterStoreOptions, keyof NatsConnectOptions>, true> = {
  stream: true,
  subjectPrefix: true,
  replicas: true,
  connection: true,
  deadlineMs: true,
  upcasters: true,
};
const CLUSTER_STORE_OPTION_KEYS: readonly string[] = Object.keys(CLUSTER_STORE_KEYS);

export interface ClusterStoreOptions extends Partial<NatsConnectOptions> {
  /** The JetStream stream holding every event stream (created with `replicas` when missing). */
  stream: string;
  /** The subject prefix of the event streams (default `episteme.<stream>.s`). */
  subjectPrefix?: string;
  /** Replicas of a stream this creates (default 3). */
  replicas?: number;
  /** An open connection to use instead of `servers` (it stays open). */
  connection?: NatsConnection;
  /** Milliseconds a call retries through a failover before NATS_UNAVAILABLE (default 30 s). */
  deadlineMs?: number;
  upcasters?: Record<string, Upcaster>;
}

/**
 * The event store on a JetStream cluster, with the embedded store's API:
 * one subject per event stream, one message per commit (a commit is atomic
 * without server-side batches), expected versions through the subject's
 * last sequence, idempotent retries through message ids. Several processes
 * on several machines append to the same streams; each conflict is the
 * embedded store's typed STORE_VERSION_CONFLICT. A record's global
 * position is its message's position (sequence × 65536, see positions.ts)
 * plus the event's index in the commit.
 */
export class ClusterEventStore implements EventStore {
  readonly jsStream: string;
  private readonly prefix: string;
  private readonly decoder: EventDecoder;
  private readonly deadlineMs: number;
  private readonly maxPayload: number;
  private closed = false;
  private appending: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly handles: JetStreamHandles,
    private readonly ownsConnection: boolean,
    options: ClusterStoreOptions,
    prefix: string,
  ) {
    this.jsStream = options.stream;
    this.prefix = prefix;
    this.decoder = createEventDecoder(options.upcasters ? { upcasters: options.upcasters } : {});
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.maxPayload = handles.nc.info?.max_payload ?? 1024 * 1024;
  }

  static async open(options: ClusterStoreOptions): Promise<ClusterEventStore> {
    checkNatsOptionKeys('openEventStore({ nats })', options, CLUSTER_STORE_OPTION_KEYS);
    const stream = checkStreamName(options.stream);
    const prefix = options.subjectPrefix ?? `episteme.${stream}.s`;
    const nc = options.connection ?? (await connectCluster({ ...options, servers: options.servers ?? [] }));
    try {
      const deadlineMs = options.deadlineMs ?? 30_000;
      const handles = await jetStreamHandles(nc, deadlineMs);
      await ensureStream(handles.jsm, { stream, subjects: [allSubjects(prefix)], deadlineMs, ...(options.replicas !== undefined ? { replicas: options.replicas } : {}) });
      return new ClusterEventStore(handles, options.connection === undefined, options, prefix);
    } catch (error) {
      if (options.connection === undefined) await nc.close().catch(() => undefined);
      throw error;
    }
  }

  async appendToStream<E extends Event>(stream: string, events: readonly E[], options?: AppendOptions): Promise<AppendResult> {
    this.checkOpen();
    validateStreamName(stream);
    checkOptions(options, ['expectedVersion', 'recreate']);
    const expected = expectedVersionOf(options?.expectedVersion);
    if (options?.recreate !== undefined && typeof options.recreate !== 'boolean') throw new StoreInvalidArgumentError('recreate must be true or false');
    const prepared = prepareCommit(stream, events);
    if (prepared.size > this.maxPayload) throw new CommitTooLargeError(stream, prepared.size, this.maxPayload);
    const intent = { prepared, expected, recreate: options?.recreate === true, msgId: commitMsgId(stream, prepared.givenIds, randomUUID), deadlineMs: this.deadlineMs };
    // one append of this process at a time: every append expects the whole stream unchanged (see StreamTail),
    // so concurrent ones of one process would only refuse each other and read again
    const turn = this.appending.then(() => appendCommit(this.target(stream), intent));
    this.appending = turn.catch(() => undefined);
    return await turn;
  }

  async readStream<E extends Event = Event>(stream: string, options?: ReadStreamOptions): Promise<ReadStreamResult<E>> {
    this.checkOpen();
    validateStreamName(stream);
    checkOptions(options, ['from', 'to', 'maxCount']);
    const from = positiveInt('from', options?.from, 1);
    const maxCount = positiveInt('maxCount', options?.maxCount, Number.MAX_SAFE_INTEGER);
    const { events, version } = await this.eventsOf(stream, Number.MAX_SAFE_INTEGER);
    let to = Math.min(positiveInt('to', options?.to, version), version);
    if (maxCount < Number.MAX_SAFE_INTEGER) to = Math.min(to, Math.max(from, 1) + maxCount - 1);
    const picked = events.filter((e) => e.streamPosition >= from && e.streamPosition <= to);
    return { events: picked as RecordedEvent<E>[], currentVersion: version, streamExists: version > 0 };
  }

  async aggregateStream<State, E extends Event = Event>(stream: string, options: AggregateStreamOptions<State, E>): Promise<AggregateStreamResult<State>> {
    this.checkOpen();
    validateStreamName(stream);
    if (typeof options?.evolve !== 'function' || typeof options.initialState !== 'function') throw new StoreInvalidArgumentError('aggregateStream needs initialState and evolve functions');
    checkOptions(options, ['initialState', 'evolve', 'to']);
    const { events, version } = await this.eventsOf(stream, Number.MAX_SAFE_INTEGER);
    const to = Math.min(positiveInt('to', options.to, version), version);
    let state = options.initialState();
    for (const e of events) if (e.streamPosition <= to) state = options.evolve(state, e as RecordedEvent<E>);
    return { state, currentVersion: version, streamExists: version > 0 };
  }

  async streamExists(stream: string): Promise<boolean> {
    this.checkOpen();
    validateStreamName(stream);
    const tail = await this.withRetry(() => readTail(this.handles, this.jsStream, subjectOf(this.prefix, stream)), `stream "${stream}"`);
    return tail.version > 0;
  }

  /** Every event from `fromPosition` in global order, up to the stream's end at the call. */
  readAll<E extends Event = Event>(fromPosition = 0): AsyncIterableIterator<RecordedEvent<E>> {
    return this.events<E>(fromPosition, false, undefined);
  }

  /** A subscription: every event from `fromPosition` in global order, then new ones as they are appended, until `signal` aborts. */
  subscribe<E extends Event = Event>(options: { fromPosition?: number; signal?: AbortSignal } = {}): AsyncIterableIterator<RecordedEvent<E>> {
    return this.events<E>(options.fromPosition ?? 0, true, options.signal);
  }

  async deleteStream(stream: string, options?: DeleteStreamOptions): Promise<DeleteStreamResult> {
    this.checkOpen();
    validateStreamName(stream);
    checkOptions(options, ['expectedVersion']);
    const expected = expectedVersionOf(options?.expectedVersion);
    const subject = subjectOf(this.prefix, stream);
    const msgID = randomUUID();
    for (;;) {
      const tail = await this.withRetry(() => readTail(this.handles, this.jsStream, subject), `stream "${stream}"`);
      if (tail.deleted) throw new StreamDeletedError(stream, 'delete');
      if (!matchesExpectedVersion(expected, tail.version)) throw new VersionConflictError(stream, expected, tail.version);
      if (tail.version === 0) throw new StreamNotFoundError(stream);
      try {
        const ack = await this.withRetry(
          () => this.handles.js.publish(subject, encodeTombstone(stream, tail.version, Date.now()), { msgID, expect: { lastSequence: tail.streamLastSeq }, timeout: 5_000 }),
          `delete stream "${stream}"`,
        );
        return { globalPosition: positionAfter(ack.seq - 1) };
      } catch (error) {
        if (/wrong last sequence/i.test((error as Error).message)) continue;
        throw error;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsConnection) await this.handles.nc.close();
  }

  private target(stream: string): CommitTarget {
    return { handles: this.handles, jsStream: this.jsStream, subject: subjectOf(this.prefix, stream), stream };
  }

  /** The events of one stream since its last tombstone, and its version. */
  private async eventsOf(stream: string, upTo: number): Promise<{ events: RecordedEvent[]; version: number }> {
    const subject = subjectOf(this.prefix, stream);
    return await this.withRetry(async () => {
      const tail = await readTail(this.handles, this.jsStream, subject);
      if (tail.lastSeq === 0) return { events: [], version: 0 };
      let events: RecordedEvent[] = [];
      for await (const msg of streamMessages(this.handles, { stream: this.jsStream, from: 1, to: tail.lastSeq, subject })) {
        if (decodeHeader(msg.data, 0).kind === KIND_TOMBSTONE) {
          events = [];
          continue;
        }
        for (const e of this.decode(msg)) if (e.streamPosition <= upTo) events.push(e);
      }
      return { events, version: tail.version };
    }, `reading stream "${stream}"`);
  }

  private async *events<E extends Event>(fromPosition: number, follow: boolean, signal: AbortSignal | undefined): AsyncIterableIterator<RecordedEvent<E>> {
    this.checkOpen();
    const from = positiveInt('fromPosition', fromPosition, 0);
    const info = await this.withRetry(() => leaderStreamInfo(this.handles.jsm, this.jsStream), `stream ${this.jsStream}`);
    const firstSeq = Math.max(seqBefore(from) + 1, 1);
    const range = { stream: this.jsStream, from: Math.max(firstSeq, info.state.first_seq || 1), ...(follow ? { to: Number.POSITIVE_INFINITY } : { to: info.state.last_seq }), ...(signal ? { signal } : {}) };
    if (!follow && info.state.last_seq === 0) return;
    for await (const msg of streamMessages(this.handles, range)) {
      for (const e of this.decode(msg)) if (e.globalPosition >= from) yield e as RecordedEvent<E>;
    }
  }

  private decode(msg: JsMsg): RecordedEvent[] {
    return this.decoder.eventsOf({ offset: positionAfter(msg.seq - 1), payload: msg.data });
  }

  private withRetry<T>(attempt: () => Promise<T>, what: string): Promise<T> {
    return retryTransient(attempt, { what, deadlineMs: this.deadlineMs });
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

function checkOptions(options: unknown, keys: string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw new StoreInvalidArgumentError('options must be an object');
  for (const key of Object.keys(options)) if (!keys.includes(key)) throw new StoreInvalidArgumentError(`unknown option ${key} (known: ${keys.join(', ')})`);
}

function expectedVersionOf(expected: unknown): ExpectedVersion {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw new StoreInvalidArgumentError(`expectedVersion must be a non-negative integer, 'no_stream', 'stream_exists' or 'any', not ${JSON.stringify(expected)}`);
}

function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new StoreInvalidArgumentError(`${name} must be a non-negative integer`);
  return value;
}
