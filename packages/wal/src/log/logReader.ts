/**
 * The log as consumers and projections see it: positions, reads, tailing.
 * Position-neutral: a position is a number that orders records and names
 * where one starts (a byte offset in a journal, a sequence in a JetStream
 * stream, an index in an in-memory log); a reader never does arithmetic on
 * positions, it moves with each record's `next`.
 */

/**
 * A record as read back. `payload` and `blake3` may be views into buffers
 * shared with other records of the same read: copy (`slice()`) what you keep.
 */
export interface LogRecord {
  /** Where the record starts. */
  readonly offset: number;
  /** Where the next record starts (the head after the last one). */
  readonly next: number;
  readonly payload: Uint8Array;
  /** The payload's BLAKE3 digest (32 bytes): the record's content address. */
  readonly blake3: Uint8Array;
}

export interface ReadFromOptions {
  /** At the head, wait for new records instead of ending (until `signal` aborts). */
  follow?: boolean;
  signal?: AbortSignal;
  /**
   * For a caller that keeps no record past the next step: each record (its
   * `payload` and `blake3`) is valid until the iterator's next `next()`,
   * after which its bytes may be overwritten by the next ones read (the
   * iterator reads into one buffer it reuses, no fresh memory per batch).
   * Every record is checked as without it. A log may ignore it (records
   * then stay valid, as they always may).
   */
  transient?: boolean;
}

export interface ReadManyOptions {
  /**
   * For a caller that keeps no record past its next transient `readMany`:
   * the records are views into a buffer that is reused, valid until then.
   * `true` uses the handle's own buffer, which every `transient: true` call
   * on the handle shares: only for a caller that is done with a batch
   * before it yields to the event loop. A caller that awaits while it holds
   * a batch passes a buffer of its own (`transientReadBuffer()`), which
   * nothing else reads into. A batch may end before `maxRecords` records
   * short of the head (where the buffer's bytes end). Every record is
   * checked as without it. A log may ignore it.
   */
  transient?: boolean | TransientReadBuffer;
}

/** A read buffer of one transient reader (see ReadManyOptions.transient); opaque. */
export interface TransientReadBuffer {
  readonly [transientBufferBrand]: true;
}
declare const transientBufferBrand: unique symbol;

/** Reads a log. Implemented by the journal's writer and reader, and by `InMemoryLog`. */
export interface LogReader {
  /**
   * Where the log lives (a journal directory, a stream name): the key of
   * in-process bookkeeping such as "this consumer is running here".
   */
  readonly location: string;
  /** The position the next record will take (for a reader: after the last one it sees). */
  readonly head: number;
  /** The position of the first retained record (the head when none is retained). */
  readonly earliest: number;
  /**
   * When the history below `earliest` was to be kept (an archive) and a
   * part of it is missing: what is missing (a file's path), for the error
   * of a rebuild from offset 0. Undefined otherwise.
   */
  readonly missingHistory?: string | undefined;
  /**
   * Where recovery cut the log when this handle opened it (records from
   * there on that a consumer may have seen are gone), or undefined. Only a
   * writer runs recovery; a reader in another process reports undefined.
   */
  readonly truncatedAt: number | undefined;

  /** The record at `offset`, or undefined at the head (and where readMany returns none). */
  read(offset: number): LogRecord | undefined;
  /**
   * Up to `maxRecords` records from `offset`, without waiting: empty at the
   * head, and on a log read over the network (a NatsLog) also below it while
   * the records from `offset` are on their way; `waitBeyond(offset)` resolves
   * once they are here. A journal returns none only at the head, and fewer
   * than `maxRecords` before it when their bytes pass 4 MiB (or a transient
   * read's buffer): loop until the head.
   */
  readMany(offset: number, maxRecords: number, options?: ReadManyOptions): LogRecord[];
  /** Records from `offset` in order; with `follow`, waits at the head until `signal` aborts. */
  readFrom(offset: number, options?: ReadFromOptions): AsyncGenerator<LogRecord, void, undefined>;
  /** Resolves once a record at or after `offset` can be read (the head moved past it, and a log read over the network fetched it), or on abort. */
  waitBeyond(offset: number, signal?: AbortSignal): Promise<void>;
  /**
   * The last record boundary at or before `offset` (the head when `offset`
   * is at or beyond it), or -1 below the earliest retained record. Cursors
   * are validated with it: a position must start a record.
   */
  boundaryAtOrBefore(offset: number): number;
  /** Number of records in [from, to) (to defaults to the head); both must be record boundaries. */
  countRecords(from: number, to?: number): number;
  /** Brings `head` and `earliest` up to date (a reader in another process looks at the log again). */
  refresh(): void;
  /**
   * Resolves once every record this handle can read is as durable as this
   * side can make it: a writer syncs its unsynced appends; a reader in
   * another process cannot sync its writer and resolves at once.
   */
  makeDurable(): Promise<void>;
}

/** Deletes what every consumer has passed. Implemented by a log's writer only. */
export interface Retention {
  /**
   * Deletes retained records below `offset`, in whole units (segments) that
   * lie entirely below it, never the one being written. Returns the names
   * of what was deleted, oldest first.
   */
  deleteBelow(offset: number): string[];
}
