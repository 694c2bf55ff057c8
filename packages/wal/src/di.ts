/**
 * Injection tokens for a container (tsyringe or any other that takes
 * symbols) under which an application registers the journal it opened.
 * They live here, with the journal, so that the write side does not import
 * the consumers package to get its journal. `Symbol.for`: one token across
 * duplicated module copies.
 */

/** The writer (`Journal.open`). */
export const JOURNAL: unique symbol = Symbol.for('episteme.Journal');
/** A reader in another process (`Journal.openForRead`). */
export const JOURNAL_READER: unique symbol = Symbol.for('episteme.JournalReader');
