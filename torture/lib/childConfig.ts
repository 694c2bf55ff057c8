import type { Durability, GroupCommitOptions } from '@episteme/wal';

/** What a writer process runs (argv[2] of children/writer.ts, as JSON). */
export interface WriterConfig {
  dir: string;
  seed: number;
  session: number;
  cycle: number;
  durability: Durability;
  groupCommit: boolean | GroupCommitOptions;
  maxSegmentBytes: number;
  preallocateBytes: number;
  /** Concurrent appender tasks. */
  appenders: number;
  /** Largest pad of a payload. */
  payloadPad: number;
  /** Share of appends that are appendBatch calls (1-8 payloads). */
  batchShare: number;
  /** Share of appends with the other durability level than the journal's. */
  overrideShare: number;
  /** Pause between appends of one task (0 = none). */
  appendPauseMs: number;
  /**
   * Yield to the event loop (setImmediate) every this many appends of a task;
   * 0 = never, like a naive app: appends that wait on no I/O then starve timers
   * and signal handlers (the parent measures it with the `tick` lines).
   */
  yieldEvery: number;
  /** Call journal.sync() this often (0 = never). */
  syncEveryMs: number;
  /** Call the registry's cleanup this often (0 = only the automatic one after commits). */
  cleanupEveryMs: number;
  projection: { snapshotEveryEvents: number; snapshotEveryMs: number; batchSize: number } | null;
}

export type ConsumerMode = 'runner' | 'batch' | 'manual';

/** A consumer process (children/consumer.ts): a read-only journal, the registry, one consumer. */
export interface ConsumerConfig {
  dir: string;
  seed: number;
  name: string;
  mode: ConsumerMode;
  commitEveryRecords: number;
  commitEveryMs: number;
  batchSize: number;
  pollIntervalMs: number;
  /** Handler pause every this many records (0 = never), to make it lag. */
  slowEvery: number;
}

/** A read-only reader process (children/reader.ts). */
export interface ReaderConfig {
  dir: string;
  seed: number;
  pollIntervalMs: number;
  /** Also read random earlier offsets by offset (journal.read). */
  randomReads: boolean;
}
