import { dataOf, decodeEvents, metadataOf, type CommitHeader } from './commit/decodeCommit.js';
import type { RecordedEvent } from './types.js';
import { upcast, type Upcasters } from './upcasting.js';

/**
 * The events of one commit record as the app reads them, positions
 * `from..to` of the stream (inclusive), upcast. A commit's global
 * positions are its log position plus each event's index in the commit
 * (docs/streams.md, "Global positions").
 */
export function recordedEventsOf(
  payload: Uint8Array,
  header: CommitHeader,
  logPosition: number,
  upcasters: Upcasters,
  from = header.firstPosition,
  to = header.firstPosition + header.count - 1,
): RecordedEvent[] {
  const stored = decodeEvents(payload, header, logPosition);
  const recordedAt = new Date(header.timestamp);
  const out: RecordedEvent[] = [];
  const first = Math.max(from, header.firstPosition) - header.firstPosition;
  const last = Math.min(to, header.firstPosition + header.count - 1) - header.firstPosition;
  for (let i = first; i <= last; i++) {
    const s = stored[i]!;
    const e = upcast(upcasters, { type: s.type, data: dataOf(payload, s), metadata: metadataOf(payload, s) });
    out.push({
      id: s.id,
      type: e.type,
      data: e.data,
      metadata: e.metadata,
      stream: header.stream,
      streamPosition: header.firstPosition + i,
      globalPosition: logPosition + i,
      recordedAt,
    } as RecordedEvent);
  }
  return out;
}
