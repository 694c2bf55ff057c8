import type { LastRecord } from '../recovery/recoveryPoint.js';
import type { Appended } from '../log/appended.js';
import type { Durability } from './options.js';

/* The entries of the journal writer's queue and pipeline (see JournalWriter). */

/** One append or appendBatch call waiting for its write (and sync). */
export interface PendingAppend {
  kind: 'append';
  payloads: Uint8Array[];
  bytes: number;
  durability: Durability;
  /** An `append` (resolves to one Appended) rather than an `appendBatch` (to an array). */
  single: boolean;
  /** What `resolve` gets, made when the batch is encoded (the encoding buffer is reused by the next batch). */
  result: Appended | Appended[] | undefined;
  /** Called with `result` once published. */
  resolve: (result: Appended | Appended[]) => void;
  reject: (err: unknown) => void;
}

/**
 * A sync() call: it waits in the queue like an append, so that its fsync
 * runs between batches, never while a rotation or close() seals the
 * descriptor it would sync.
 */
export interface SyncBarrier {
  kind: 'sync';
  resolve: () => void;
  reject: (err: unknown) => void;
}

export type QueueEntry = PendingAppend | SyncBarrier;

/** A batch written to the file, waiting for its sync (or for the batches before it). */
export interface InFlight {
  batch: PendingAppend[];
  /** Head once this batch is published. */
  end: number;
  /** Resolves when the batch's sync is done, to its error if it failed; undefined when it needs none (durability `none`). */
  synced: Promise<{ err: unknown } | undefined> | undefined;
  /** CRC32C of the active segment up to the batch's end (a synced prefix once the sync is done). */
  crc: number;
  /** The record that ends at `end` (ActiveSegment.lastRecord), for the synced prefix. */
  last: LastRecord | undefined;
  /** Records in the batch. */
  records: number;
}
