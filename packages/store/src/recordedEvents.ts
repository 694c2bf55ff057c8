import { bufferOf, dataOf, decodeEvents, metadataOf, type CommitHeader } from './commit/decodeCommit.js';
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
  const buf = bufferOf(payload); // one Buffer view for the whole commit, not one per field read
  const stored = decodeEvents(buf, header, logPosition);
  const recordedAt = new Date(header.timestamp);
  const out: RecordedEvent[] = [];
  const first = Math.max(from, header.firstPosition) - header.firstPosition;
  const last = Math.min(to, header.firstPosition + header.count - 1) - header.firstPosition;
  for (let i = first; i <= last; i++) {
    const s = stored[i]!;
    let type = s.type;
    let data = dataOf(buf, s);
    let metadata = metadataOf(buf, s);
    // no intermediate object when no upcaster is registered for the type (upcast would return it as it is)
    if (Object.hasOwn(upcasters, type)) ({ type, data, metadata } = upcast(upcasters, { type, data, metadata }));
    out.push({
      id: s.id,
      type,
      data,
      metadata,
      stream: header.stream,
      streamPosition: header.firstPosition + i,
      globalPosition: logPosition + i,
      recordedAt,
    } as RecordedEvent);
  }
  return out;
}
