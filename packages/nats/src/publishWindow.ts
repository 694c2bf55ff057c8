import { createInbox, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/**
 * What JetStream answered to one publish. `retryable`: the cluster was
 * between leaders or a server did not answer (no responders, a timeout);
 * the same publish, with the same message id, may be sent again.
 */
export type PublishOutcome =
  | { ok: true; seq: number; duplicate: boolean }
  | { ok: false; retryable: boolean; code: number; errCode: number; description: string };

/** JetStream's error code for a failed `Nats-Expected-Last-Sequence` / `-Last-Subject-Sequence` check. */
export const WRONG_LAST_SEQUENCE = 10071;

export interface PublishWindowOptions {
  /** Publishes in flight at most (default 1024). */
  window?: number;
  /** Milliseconds before an unanswered publish counts as a retryable failure (default 10 s). */
  ackTimeoutMs?: number;
}

interface Pending {
  resolve: (outcome: PublishOutcome) => void;
  sentAt: number;
}

const decoder = new TextDecoder();

/**
 * Publishes to JetStream pipelined: many publishes in flight through one
 * reply inbox, each answered by its own acknowledgement, instead of one
 * awaited request at a time (js.publish costs the client several times the
 * CPU of this on 2 cores: notes/jetstream.md). Order on the wire is call
 * order, so a stream's leader sees them in that order.
 */
export class PublishWindow {
  private readonly nc: NatsConnection;
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly pending = new Map<string, Pending>();
  private readonly size: number;
  private readonly ackTimeoutMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private token = 0;
  private spaceWaiters: Array<() => void> = [];

  constructor(nc: NatsConnection, options: PublishWindowOptions = {}) {
    this.nc = nc;
    this.size = options.window ?? 1024;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.inbox = createInbox();
    const prefix = this.inbox.length + 1;
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) return;
        const token = msg.subject.slice(prefix);
        const waiting = this.pending.get(token);
        if (waiting === undefined) return; // answered after its timeout: the caller already moved on
        this.settle(token, waiting, parseAck(msg.data, msg.headers));
      },
    });
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.min(1_000, this.ackTimeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Publishes in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The window is full: `space()` would wait. */
  get full(): boolean {
    return this.pending.size >= this.size;
  }

  /** Resolves when one more publish fits in the window. */
  async space(): Promise<void> {
    while (this.pending.size >= this.size) await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Sends one publish now (call `space()` first to stay within the window); resolves with its acknowledgement. */
  publish(subject: string, payload: Uint8Array, headers: MsgHdrs): Promise<PublishOutcome> {
    const token = String(++this.token);
    return new Promise<PublishOutcome>((resolve) => {
      this.pending.set(token, { resolve, sentAt: Date.now() });
      try {
        this.nc.publish(subject, payload, { reply: `${this.inbox}.${token}`, headers });
      } catch (error) {
        const waiting = this.pending.get(token)!;
        this.settle(token, waiting, { ok: false, retryable: true, code: 0, errCode: 0, description: (error as Error).message });
      }
    });
  }

  /** Stops listening; publishes still in flight resolve as retryable failures. */
  close(): void {
    clearInterval(this.sweeper);
    for (const [token, waiting] of this.pending) this.settle(token, waiting, { ok: false, retryable: true, code: 0, errCode: 0, description: 'closed' });
    this.subscription.unsubscribe();
  }

  private settle(token: string, waiting: Pending, outcome: PublishOutcome): void {
    this.pending.delete(token);
    waiting.resolve(outcome);
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, waiting] of this.pending) {
      if (now - waiting.sentAt >= this.ackTimeoutMs) {
        this.settle(token, waiting, { ok: false, retryable: true, code: 408, errCode: 0, description: `no acknowledgement within ${this.ackTimeoutMs} ms` });
      }
    }
  }
}

/** Reads JetStream's acknowledgement (`{stream, seq, duplicate}` or `{error}`), or a status-only reply (503: no responders). */
export function parseAck(data: Uint8Array, headers: MsgHdrs | undefined): PublishOutcome {
  if (data.length === 0) {
    const code = headers?.code ?? 0;
    return { ok: false, retryable: true, code, errCode: 0, description: headers?.description || (code === 503 ? 'no responders' : 'empty reply') };
  }
  let body: { seq?: unknown; duplicate?: unknown; error?: { code?: number; err_code?: number; description?: string } };
  try {
    body = JSON.parse(decoder.decode(data)) as typeof body;
  } catch {
    return { ok: false, retryable: false, code: 0, errCode: 0, description: 'an acknowledgement that is not JSON' };
  }
  if (body.error !== undefined) {
    const code = body.error.code ?? 0;
    // 503: the stream has no leader right now (an election); anything else is an answer
    return { ok: false, retryable: code === 503, code, errCode: body.error.err_code ?? 0, description: body.error.description ?? 'error' };
  }
  if (typeof body.seq !== 'number') return { ok: false, retryable: false, code: 0, errCode: 0, description: 'an acknowledgement without a sequence' };
  return { ok: true, seq: body.seq, duplicate: body.duplicate === true };
}
