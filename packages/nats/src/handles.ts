import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { retryTransient } from './transient.js';

/** A connection with its JetStream client and manager, made once and shared by a module's calls. */
export interface JetStreamHandles {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export async function jetStreamHandles(nc: NatsConnection, deadlineMs?: number, signal?: AbortSignal): Promise<JetStreamHandles> {
  const jsm = await retryTransient(() => jetstreamManager(nc), { what: 'reaching JetStream', ...(deadlineMs !== undefined ? { deadlineMs } : {}), ...(signal ? { signal } : {}) });
  return { nc, js: jetstream(nc), jsm };
}
