import type { CursorState, CursorStore } from '@episteme/wal';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { NatsClusterError, NatsErrorCodes } from '../errors.js';
import { WRONG_LAST_SEQUENCE } from '../publishWindow.js';
import { retryTransient } from '../transient.js';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { leaderStreamInfo } from '../streamLayout.js';

interface Observed {
  state: CursorState;
  revision: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Consumer cursors in a replicated KV bucket, one key per consumer. Every
 * write is a compare-and-set on the revision this handle last wrote (or
 * read, for its first write): when another runner of the same consumer, on
 * any machine, committed in between, the write loses and the consumer is
 * fenced here (NATS_CURSOR_FENCED on every later write) instead of both
 * runners committing.
 *
 * The CursorStore interface is synchronous (a journal's cursor files are
 * local): reads answer from a copy kept current by a watch on the bucket;
 * `write` queues its compare-and-set and returns (a fence shows at the next
 * write), `writeAsync` resolves once the bucket took it. `flush` waits for
 * every queued write.
 */
export class KvCursorStore implements CursorStore {
  private readonly observed = new Map<string, Observed>();
  /** The revision each write of this handle is based on. */
  private readonly held = new Map<string, number>();
  private readonly durable = new Map<string, number>();
  private readonly fenced = new Map<string, NatsClusterError>();
  private chain: Promise<void> = Promise.resolve();
  private stopWatch: (() => void) | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly bucket: string,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Loads the bucket's cursors and watches it for other processes' commits. */
  static async open(kv: KV, bucket: string, handles: { js: JetStreamClient; jsm: JetStreamManager }): Promise<KvCursorStore> {
    const store = new KvCursorStore(kv, bucket, handles.js, handles.jsm);
    // Where the bucket ends before the watch starts: the initial values are
    // complete once an entry at or past it arrives. The watch's own marker
    // (an entry with delta 0) never comes while other processes keep
    // committing, since each of their writes adds to what is pending: an
    // open waiting for it hung for minutes beside a busy consumer.
    const info = await retryTransient(() => leaderStreamInfo(handles.jsm, `KV_${bucket}`), { what: `cursor bucket ${bucket}` });
    const lastAtStart = info.state.messages === 0 ? 0 : info.state.last_seq;
    const watch = await kv.watch();
    store.stopWatch = () => watch.stop();
    let initialized: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    void (async () => {
      for await (const entry of watch) {
        store.take(entry);
        if (entry.delta === 0 || entry.revision >= lastAtStart) initialized();
      }
    })().catch(() => undefined);
    // an empty bucket sends nothing to mark the end of the initial values
    if (lastAtStart === 0) initialized();
    await ready;
    return store;
  }

  read(name: string): CursorState | undefined {
    return this.observed.get(name)?.state;
  }

  write(state: CursorState): void {
    void this.enqueue(state).catch(() => undefined);
  }

  writeAsync(state: CursorState): Promise<void> {
    return this.enqueue(state);
  }

  readFloor(name: string): number | undefined {
    return this.durable.get(name);
  }

  remove(name: string): boolean {
    const existed = this.observed.delete(name);
    const base = this.held.get(name) ?? 0;
    this.held.delete(name);
    this.durable.delete(name);
    this.fenced.delete(name);
    this.chain = this.chain.then(() => this.kv.delete(name, base > 0 ? { previousSeq: base } : {})).catch(() => undefined);
    return existed;
  }

  names(): string[] {
    return [...this.observed.keys()].sort();
  }

  /** Waits for every queued write; rejects with the first one that failed since the last flush. */
  async flush(): Promise<void> {
    await this.chain;
  }

  close(): void {
    this.stopWatch?.();
  }

  private enqueue(state: CursorState): Promise<void> {
    const fence = this.fenced.get(state.name);
    if (fence !== undefined) throw fence;
    const name = state.name;
    if (!this.held.has(name)) this.held.set(name, this.observed.get(name)?.revision ?? 0);
    // visible to this process at once, as a cursor file's commit is
    this.observed.set(name, { state: { ...state }, revision: this.observed.get(name)?.revision ?? 0 });
    const data = encoder.encode(JSON.stringify(state));
    const done = this.chain.then(async () => {
      if (this.fenced.has(name)) throw this.fenced.get(name);
      const base = this.held.get(name) ?? 0;
      const revision = await this.compareAndSet(name, data, base);
      if (revision === undefined) {
        const fence = new NatsClusterError(
          NatsErrorCodes.CursorFenced,
          `consumer ${name}: another runner committed its cursor in bucket ${this.bucket} (revision ${base} is no longer the latest): this runner is fenced`,
        );
        this.fenced.set(name, fence);
        throw fence;
      }
      this.held.set(name, revision);
      this.durable.set(name, state.cursor);
    });
    this.chain = done.catch(() => undefined);
    return done;
  }

  /**
   * Writes `data` under `name` if its latest revision is still `base` (0:
   * none); the new revision, or undefined when another writer got there.
   * Not `kv.update`: its per-subject check lets two racing writers through
   * on a replicated 2.9.10 stream (notes/jetstream.md). The key's revision is
   * read from the leader after the stream's last sequence, and the write
   * expects that sequence: any write in between refuses it, and it reads again.
   */
  private async compareAndSet(name: string, data: Uint8Array, base: number): Promise<number | undefined> {
    const jsStream = `KV_${this.bucket}`;
    const subject = `$KV.${this.bucket}.${name}`;
    for (;;) {
      const lastSeq = await retryTransient(async () => (await leaderStreamInfo(this.jsm, jsStream)).state.last_seq, { what: `cursor bucket ${this.bucket}` });
      const current = await retryTransient(() => lastBySubject(this.jsm, jsStream, subject), { what: `cursor ${name}` });
      if ((current ?? 0) !== base) return undefined;
      try {
        const ack = await retryTransient(() => this.js.publish(subject, data, { expect: { lastSequence: lastSeq }, timeout: 5_000 }), { what: `committing cursor ${name}` });
        return ack.seq;
      } catch (error) {
        if (!isCasLoss(error)) throw error;
        // another key of the bucket moved: look again
      }
    }
  }

  private take(entry: KvWatchEntry): void {
    if (entry.operation === 'DEL' || entry.operation === 'PURGE') {
      this.observed.delete(entry.key);
      return;
    }
    const current = this.observed.get(entry.key);
    if (current !== undefined && current.revision >= entry.revision) return;
    try {
      const state = JSON.parse(decoder.decode(entry.value)) as CursorState;
      if (typeof state?.name === 'string' && typeof state.cursor === 'number') this.observed.set(entry.key, { state, revision: entry.revision });
    } catch {
      // not a cursor Episteme wrote: left out of the registry
    }
  }
}

/** The revision (stream sequence) of a key's latest entry, read from the stream's leader; undefined when none. */
async function lastBySubject(jsm: JetStreamManager, jsStream: string, subject: string): Promise<number | undefined> {
  try {
    const last = await jsm.streams.getMessage(jsStream, { last_by_subj: subject });
    if (last === null) return undefined;
    const operation = last.header?.get('KV-Operation');
    return operation === 'DEL' || operation === 'PURGE' ? undefined : last.seq;
  } catch (error) {
    if (/no message found|not found/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

function isCasLoss(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; message?: string } | undefined;
  return e?.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence|key exists/i.test(e?.message ?? '');
}
