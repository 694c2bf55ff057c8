import { bufferOf, decodeEvents, decodeHeader } from '../commit/decodeCommit.js';
import { KIND_TOMBSTONE } from '../commit/layout.js';
import { isStoreError } from '../errors.js';

/** One stored event as `describeCommit` shows it: as stored (no upcasting). */
export interface DescribedEvent {
  id: string;
  /** The store generated the id (the caller gave none). */
  generatedId: boolean;
  type: string;
  streamPosition: number;
  globalPosition: number;
  /** JSON data, parsed; absent when the data is bytes (then `dataBase64`). */
  data?: unknown;
  dataBase64?: string;
  metadata?: Record<string, unknown>;
}

/**
 * A record of a store's log, described for a person or a script (the
 * `episteme-wal dump --events` formatter): a commit with its events, a
 * tombstone, or a record that is not a store record, with why. Never
 * throws for a record's content: a dump of a log that holds other records
 * shows a note for each.
 */
export type CommitDescription =
  | { kind: 'commit'; stream: string; firstPosition: number; count: number; recordedAt: string; events: DescribedEvent[] }
  | { kind: 'tombstone'; stream: string; /** The version the stream had when deleted. */ version: number; recordedAt: string }
  | { kind: 'not-a-commit'; code: string; reason: string };

const textOf = (buf: Buffer, start: number, end: number): string => buf.toString('utf8', start, end);

export function describeCommit(payload: Uint8Array, offset: number): CommitDescription {
  try {
    const header = decodeHeader(payload, offset);
    const recordedAt = new Date(header.timestamp).toISOString();
    if (header.kind === KIND_TOMBSTONE) return { kind: 'tombstone', stream: header.stream, version: header.firstPosition, recordedAt };
    const buf = bufferOf(payload);
    const events = decodeEvents(payload, header, offset).map((e, i): DescribedEvent => {
      const out: DescribedEvent = { id: e.id, generatedId: e.generatedId, type: e.type, streamPosition: header.firstPosition + i, globalPosition: offset + i };
      if (e.bytes) out.dataBase64 = buf.subarray(e.dataStart, e.dataEnd).toString('base64');
      else out.data = JSON.parse(textOf(buf, e.dataStart, e.dataEnd));
      if (e.metadataEnd > e.metadataStart) out.metadata = JSON.parse(textOf(buf, e.metadataStart, e.metadataEnd)) as Record<string, unknown>;
      return out;
    });
    return { kind: 'commit', stream: header.stream, firstPosition: header.firstPosition, count: header.count, recordedAt, events };
  } catch (err) {
    // the layout's own refusals, and JSON that does not parse inside a commit that otherwise does
    if (isStoreError(err)) return { kind: 'not-a-commit', code: err.code, reason: err.message };
    if (err instanceof SyntaxError || err instanceof RangeError) {
      return { kind: 'not-a-commit', code: 'STORE_CORRUPT_COMMIT', reason: `the record at log position ${offset} is not a valid commit: ${err.message}` };
    }
    throw err;
  }
}
