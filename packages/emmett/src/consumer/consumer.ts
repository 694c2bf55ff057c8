import {
  getCheckpoint,
  projector,
  reactor,
  type AnyEvent,
  type AnyMessage,
  type Checkpointer,
  type MessageProcessor,
  type ProjectorOptions,
  type ReactorOptions,
  type ReadEventMetadataWithGlobalPosition,
} from '@event-driven-io/emmett';
import { randomUUID } from 'node:crypto';
import { describeValue } from '@episteme/store/internals';
import { EmmettAdapterError, EmmettAdapterErrorCodes, EmmettInvalidArgumentError } from '../errors.js';
import type { EpistemeEventStore } from '../epistemeEventStore.js';
import { cursorNameOf } from './cursorName.js';
import type { ProcessorFeed } from './processorFeed.js';

/** What a processor's handlers receive beside the events: the event store they read. */
export type EpistemeProcessorContext = { eventStore: EpistemeEventStore };

type Meta = ReadEventMetadataWithGlobalPosition;
export type EpistemeProcessor = MessageProcessor<AnyMessage, Meta, EpistemeProcessorContext, bigint>;
export type EpistemeReactorOptions<M extends AnyMessage = AnyMessage> = Omit<ReactorOptions<M, Meta, EpistemeProcessorContext, bigint>, 'checkpoints'>;
export type EpistemeProjectorOptions<E extends AnyEvent = AnyEvent> = Omit<ProjectorOptions<E, Meta, EpistemeProcessorContext, bigint>, 'checkpoints'>;

export interface EpistemeConsumerOptions {
  consumerId?: string;
  /** Processors made with Emmett's `reactor()`/`projector()` and this store's checkpointer (prefer `consumer.reactor()`/`projector()`). */
  processors?: EpistemeProcessor[];
  pulling?: { /** Commits read at a time (default 100). */ batchSize?: number };
  /** `noMessagesLeft: true`: each processor stops at the head instead of waiting for new events (a catch-up or rebuild). */
  stopWhen?: { noMessagesLeft?: boolean };
}

export interface EpistemeEventStoreConsumer {
  readonly consumerId: string;
  readonly isRunning: boolean;
  readonly processors: readonly EpistemeProcessor[];
  reactor<M extends AnyMessage = AnyMessage>(options: EpistemeReactorOptions<M>): EpistemeProcessor;
  projector<E extends AnyEvent = AnyEvent>(options: EpistemeProjectorOptions<E>): EpistemeProcessor;
  /** Starts every processor from its checkpoint; resolves when all have stopped (stop(), a STOP result, a processor closed, as Emmett does on SIGTERM and SIGINT, or the head with stopWhen), rejects with the error of a processor whose handler kept failing. */
  start(): Promise<void>;
  /** Stops the processors after the commit each is handling; their checkpoints are durable when it resolves. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown inside a run, never out of it: a STOP inside a commit, or a processor closed under the run, leaves the cursor before that commit. */
class StoppedInsideCommit extends Error {}

const DEFAULT_BATCH_SIZE = 100;

/**
 * Emmett's consumer over an Episteme store: each processor is Emmett's own
 * reactor or projector, with its checkpoint in an Episteme cursor of its own
 * and its events delivered by Episteme's consumer runner, one commit at a
 * time, at least once: a checkpoint is made durable every 1000 commits, every
 * second and at stop, so after a crash a processor sees again at most the
 * commits since its last durable checkpoint (whole), never fewer.
 */
export function createConsumer(eventStore: EpistemeEventStore, feedOf: () => Promise<ProcessorFeed>, options: EpistemeConsumerOptions | undefined, onClose: () => void): EpistemeEventStoreConsumer {
  const o = checkConsumerOptions(options);
  const processors: EpistemeProcessor[] = [...(o.processors ?? [])];
  const context: EpistemeProcessorContext = { eventStore };
  /** The Emmett position each processor last stored, to tell a STOP at a commit's end from one inside it. */
  const stored = new Map<string, bigint>();
  let running: { controller: AbortController; done: Promise<void> } | undefined;
  let closed = false;

  const checkpoints: Checkpointer<AnyMessage, Meta, EpistemeProcessorContext, bigint> = {
    read: async ({ processorId }) => ({ lastCheckpoint: (await feedOf()).checkpoint(cursorNameOf(processorId)) }),
    store: async ({ processorId, message }) => {
      const position = getCheckpoint(message) as bigint;
      stored.set(processorId, position);
      return { success: true, newCheckpoint: position };
    },
  };

  async function runOne(processor: EpistemeProcessor, signal: AbortSignal): Promise<void> {
    const feed = await feedOf();
    const start = await processor.start(context);
    if (start === undefined) return; // already running
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stop.abort(); // stopped while the processor was starting
    try {
      const name = cursorNameOf(processor.id);
      const skipUpTo = feed.position(name, start);
      const result = await feed.run(name, {
        signal: stop.signal,
        batchSize: o.batchSize,
        stopAtHead: o.stopAtHead,
        handler: async (messages) => {
          const fresh = skipUpTo === undefined ? messages : messages.filter((m) => m.metadata.globalPosition > skipUpTo);
          if (fresh.length === 0) return;
          // closed under the run (Emmett closes processors on SIGTERM and SIGINT): its handle() returns without
          // handling anything, and the runner would commit the cursor past every commit up to the stop
          if (!processor.isActive) {
            stop.abort();
            throw new StoppedInsideCommit();
          }
          const outcome = await processor.handle(fresh, context);
          if (outcome?.type !== 'STOP') return;
          stop.abort();
          const last = fresh[fresh.length - 1]!.metadata.globalPosition;
          if (stored.get(processor.id) !== last) throw new StoppedInsideCommit();
        },
      });
      if (result.state === 'failed') throw result.error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await processor.close(context);
    }
  }

  const consumer: EpistemeEventStoreConsumer = {
    consumerId: o.consumerId ?? randomUUID(),
    get isRunning() {
      return running !== undefined;
    },
    processors,
    reactor(options) {
      const processor = reactor({ ...options, checkpoints } as never) as EpistemeProcessor;
      processors.push(processor);
      return processor;
    },
    projector(options) {
      const processor = projector({ ...options, checkpoints } as never) as EpistemeProcessor;
      processors.push(processor);
      return processor;
    },
    start() {
      if (closed) return Promise.reject(new EmmettAdapterError(EmmettAdapterErrorCodes.ConsumerState, 'the consumer is closed'));
      if (running) return running.done;
      if (processors.length === 0) {
        return Promise.reject(new EmmettAdapterError(EmmettAdapterErrorCodes.ConsumerState, 'cannot start a consumer without a processor: add one with consumer.reactor() or consumer.projector()'));
      }
      const controller = new AbortController();
      const done = Promise.allSettled(processors.map((p) => runOne(p, controller.signal))).then((results) => {
        running = undefined;
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      });
      running = { controller, done };
      return done;
    },
    async stop() {
      if (!running) return;
      const { controller, done } = running;
      controller.abort();
      await done.catch(() => undefined);
    },
    async close() {
      if (closed) return;
      closed = true;
      await consumer.stop();
      onClose();
    },
  };
  return consumer;
}

function checkConsumerOptions(options: EpistemeConsumerOptions | undefined): EpistemeConsumerOptions & { batchSize: number; stopAtHead: boolean } {
  if (options === undefined) return { batchSize: DEFAULT_BATCH_SIZE, stopAtHead: false };
  if (typeof options !== 'object' || options === null) throw new EmmettInvalidArgumentError(`consumer() takes an options object, not ${describeValue(options)}`);
  const batchSize = options.pulling?.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new EmmettInvalidArgumentError(`pulling.batchSize must be a positive integer, not ${describeValue(batchSize)}`);
  if (options.processors !== undefined && !Array.isArray(options.processors)) throw new EmmettInvalidArgumentError('processors must be an array');
  if (options.consumerId !== undefined && typeof options.consumerId !== 'string') throw new EmmettInvalidArgumentError(`consumerId must be a string, not ${describeValue(options.consumerId)}`);
  return { ...options, batchSize, stopAtHead: options.stopWhen?.noMessagesLeft === true };
}
