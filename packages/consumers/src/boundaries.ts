import type { Journal, JournalReader } from '@episteme/wal';

/**
 * Answers "is this offset the start of a record?". Transitional: the cache
 * of known boundaries that lived here moved into the journal
 * (`boundaryAtOrBefore`: the writer remembers the boundaries it validated
 * or handed out as `next`, a reader in another process does not, since its
 * writer may crash and recovery may rewrite the tail), so this only
 * forwards; the registry is to call the log directly.
 */
export class RecordBoundaries {
  static of(journal: Journal | JournalReader): RecordBoundaries {
    return new RecordBoundaries(journal);
  }

  private constructor(private readonly journal: Journal | JournalReader) {}

  /** The journal remembers boundaries itself now. */
  remember(_key: string, _offset: number): void {}

  /** Whether `offset`, within [earliest, head), starts a record. */
  isBoundary(offset: number, _segments?: Array<{ base: number }>): boolean {
    return this.atOrBefore(offset) === offset;
  }

  /**
   * The last record boundary at or before `offset` (the head when `offset`
   * is at or beyond it), or -1 when `offset` is below every retained segment.
   */
  atOrBefore(offset: number, _segments?: Array<{ base: number }>): number {
    return this.journal.boundaryAtOrBefore(offset);
  }
}
