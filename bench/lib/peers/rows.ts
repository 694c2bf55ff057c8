import type { OpenMethod, ReadMethod } from './datasets.js';

/** The peers suite's read and open rows, in the order its tables list them. */
export const READS: Array<{ method: ReadMethod; label: string }> = [
  { method: 'episteme-readFrom', label: 'Episteme readFrom(0) (async iterator)' },
  { method: 'episteme-readMany', label: 'Episteme readMany(4096) loop' },
  { method: 'episteme-readFrom-transient', label: 'Episteme readFrom(0, { transient: true })' },
  { method: 'episteme-readMany-transient', label: 'Episteme readMany(4096, { transient: true }) loop' },
  { method: 'sqlite', label: 'better-sqlite3 SELECT ... ORDER BY id, iterate(), raw rows' },
  { method: 'level', label: 'classic-level iterator, nextv(1000)' },
  { method: 'raw', label: 'raw fs: readSync of the segment files, 4 MiB chunks' },
];

export const OPENS: Array<{ method: OpenMethod; label: string }> = [
  { method: 'episteme', label: 'Episteme Journal.open (verifies every record)' },
  { method: 'episteme-headers', label: 'Episteme Journal.open, scanSealedOnOpen: false' },
  { method: 'episteme-default', label: 'Episteme Journal.open, default options' },
  { method: 'episteme-reader', label: 'Episteme Journal.openForRead (a reader), default options' },
  { method: 'sqlite', label: 'better-sqlite3 open + first query' },
  { method: 'level', label: 'classic-level open + last key' },
  { method: 'raw', label: 'raw fs: read every segment byte once' },
];
