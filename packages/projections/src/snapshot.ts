import { openEnvelope, sealEnvelope, type EnvelopeLayout } from '@episteme/wal/internals';
import { CorruptSnapshotError, StateNotSerializableError } from './errors.js';

/** A projection's state at a checkpoint, persisted together and atomically. */
export interface Snapshot {
  name: string;
  version: number;
  /** Offset of the next record to apply: every record below it is in `state`. */
  checkpoint: number;
  /** Serialized (JSON-able) state. */
  state: unknown;
  /** Events applied since the last rebuild from 0. */
  events: number;
  savedAt: string;
}

/*
 * Layout: one header line `episteme-snapshot v1 <body bytes> <crc32c hex>`,
 * then the JSON body. The length and the checksum make a truncated or
 * damaged snapshot detectable, which leads to a rebuild, never to wrong state.
 */
const ENVELOPE: EnvelopeLayout = { magic: 'episteme-snapshot v1', length: true, kind: 'snapshot file' };

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  let json: string;
  try {
    json = JSON.stringify(snapshot);
  } catch (err) {
    // only the state can make it throw (a BigInt, a cycle, a throwing toJSON)
    throw new StateNotSerializableError(snapshot.name, err);
  }
  return sealEnvelope(ENVELOPE, Buffer.from(json));
}

export function decodeSnapshot(bytes: Uint8Array, path: string): Snapshot {
  const opened = openEnvelope(ENVELOPE, bytes);
  if (!('body' in opened)) throw new CorruptSnapshotError(path, opened.damage);
  let parsed: Snapshot;
  try {
    parsed = JSON.parse(opened.body.toString('utf8')) as Snapshot;
  } catch (err) {
    throw new CorruptSnapshotError(path, `bad JSON: ${String(err)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.name !== 'string' || !Number.isSafeInteger(parsed.version) || !Number.isSafeInteger(parsed.checkpoint) || parsed.checkpoint < 0) {
    throw new CorruptSnapshotError(path, 'missing or invalid fields');
  }
  return parsed;
}
