/**
 * Where consumers keep their cursors. The journal keeps them in files
 * beside its segments (the consumers package's FileCursorStore); InMemoryLog
 * keeps them in memory; a cluster backend keeps them where its log is.
 */

/** A consumer's durable state. */
export interface CursorState {
  name: string;
  /** Position of the next record to process. */
  cursor: number;
  /** ISO time of the last commit (or of the registration). */
  committedAt: string;
  /** `registered` until a runner starts; `running` while one does (see pid). */
  state: 'registered' | 'running' | 'stopped' | 'failed';
  /** The process running the consumer, while `running`. */
  pid?: number;
  /** The handler's error message when `failed`. */
  error?: string;
}

export interface CursorStore {
  /** The latest committed state of a consumer, or undefined when none is stored. */
  read(name: string): CursorState | undefined;
  /** Commits a state durably (resolves/returns once it survives a crash). */
  write(state: CursorState): void;
  writeAsync(state: CursorState): Promise<void>;
  /**
   * Optional: `writeAsync` of the state `next` makes of the stored one
   * (undefined when none is stored), reading it once for both: a runner's
   * commit checks the stored cursor and writes the next in one open of its
   * file. What `next` throws is thrown, with nothing written.
   */
  updateAsync?(name: string, next: (current: CursorState | undefined) => CursorState): Promise<CursorState>;
  /**
   * The cursor of the last commit known to be durable (a commit may be
   * visible before it is), which is what retention may trust; undefined
   * when none is stored.
   */
  readFloor(name: string): number | undefined;
  /** Removes a consumer's state; false when there was none. */
  remove(name: string): boolean;
  /** The names of every stored consumer, sorted. */
  names(): string[];
}
