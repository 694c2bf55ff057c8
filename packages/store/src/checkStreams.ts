import type { LogReader } from '@episteme/wal';
import { decodeHeader } from './commit/decodeCommit.js';
import { KIND_TOMBSTONE } from './commit/layout.js';

/** What a log's commits say about its streams, read without the store or its index. */
export interface StreamsCheck {
  /** Each stream's version as a fold of the log gives it (0 after a tombstone). */
  versions: Map<string, number>;
  commits: number;
  events: number;
  tombstones: number;
  /** Commits that do not start right after their stream's version (or at 1 after a tombstone): none in a sound log. */
  violations: string[];
}

/**
 * Folds every retained record of a log as the store would, checking that
 * versions are dense: what torture runs and `verify` commands compare the
 * store's index against. Throws STORE_CORRUPT_COMMIT at a record that is not
 * a store record.
 */
export async function checkStreams(log: LogReader): Promise<StreamsCheck> {
  const out: StreamsCheck = { versions: new Map(), commits: 0, events: 0, tombstones: 0, violations: [] };
  for await (const rec of log.readFrom(log.earliest)) {
    const h = decodeHeader(rec.payload, rec.offset);
    if (h.kind === KIND_TOMBSTONE) {
      out.versions.set(h.stream, 0);
      out.tombstones++;
      continue;
    }
    const version = out.versions.get(h.stream) ?? 0;
    if (h.firstPosition !== version + 1) out.violations.push(`${h.stream}: the commit at ${rec.offset} starts at ${h.firstPosition}, after version ${version}`);
    out.versions.set(h.stream, h.firstPosition + h.count - 1);
    out.commits++;
    out.events += h.count;
  }
  return out;
}
