import { parentPort } from 'node:worker_threads';
import { EncodedCommitsBuilder } from '@episteme/store/encoded';
import { prepareRun, transferList, type PreparedRun } from './preparedBatch.js';

/**
 * An import worker: validates runs of lines and encodes their commits for
 * the main thread, which only appends them (see PreparePool). It never
 * prints; a bug in preparing is sent back as an error for the import to
 * fail with.
 */
export interface PrepareRequest {
  job: number;
  /** The run's lines joined by `\n` (no line holds one). */
  text: string;
  producer: string;
  /** The store's payload limit (each commit is checked against it here too). */
  maxPayloadBytes: number;
}

/** `ready` once, when the worker's modules are loaded; then one reply per request. */
export type PrepareReply = { ready: true } | { job: number; run: PreparedRun } | { job: number; error: { message: string; stack?: string } };

const port = parentPort;
if (port) {
  let builder: EncodedCommitsBuilder | undefined;
  port.on('message', (m: PrepareRequest) => {
    let run: PreparedRun;
    try {
      builder ??= new EncodedCommitsBuilder(m.maxPayloadBytes);
      run = prepareRun(m.text.split('\n'), m.producer, builder);
    } catch (err) {
      const error = err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };
      port.postMessage({ job: m.job, error } satisfies PrepareReply);
      return;
    }
    port.postMessage({ job: m.job, run } satisfies PrepareReply, transferList(run));
  });
  port.postMessage({ ready: true } satisfies PrepareReply);
}
