import { parentPort } from 'node:worker_threads';
import { prepareBatch } from './preparedBatch.js';

/**
 * An import worker: validates and encodes runs of lines for the main thread
 * (see PreparePool). It never prints; a bug in preparing is sent back as an
 * error for the import to fail with.
 */
export interface PrepareRequest {
  job: number;
  lines: string[];
  producer: string;
}

/** `ready` once, when the worker's modules are loaded; then one reply per request. */
export type PrepareReply = { ready: true } | { job: number; batch: ReturnType<typeof prepareBatch> } | { job: number; error: { message: string; stack?: string } };

const port = parentPort;
if (port) {
  port.on('message', (m: PrepareRequest) => {
    let reply: PrepareReply;
    try {
      reply = { job: m.job, batch: prepareBatch(m.lines, m.producer) };
    } catch (err) {
      const error = err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };
      port.postMessage({ job: m.job, error } satisfies PrepareReply);
      return;
    }
    port.postMessage(reply, [reply.batch.bytes.buffer as ArrayBuffer, reply.batch.ends.buffer as ArrayBuffer]);
  });
  port.postMessage({ ready: true } satisfies PrepareReply);
}
