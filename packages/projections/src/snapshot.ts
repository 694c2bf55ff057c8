import { crc32cJs } from '@episteme/wal/internals';
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

const MAGIC = 'episteme-snapshot v1';

/*
 * Layout: one header line `episteme-snapshot v1 <body bytes> <crc32c hex>`,
 * then the JSON body. The length and the checksum make a truncated or
 * damaged snapshot detectable, which leads to a rebuild, never to wrong state.
 */
export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  let json: string;
  try {
    json = JSON.stringify(snapshot);
  } catch (err) {
    // only the state can make it throw (a BigInt, a cycle, a throwing toJSON)
    throw new StateNotSerializableError(snapshot.name, err);
  }
  const body = Buffer.from(json);
  const crc = crc32cJs(body).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${MAGIC} ${body.length} ${crc}\n`), body]);
}

export function decodeSnapshot(bytes: Uint8Array, path: string): Snapshot {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = buf.indexOf(10);
  if (nl < 0 || nl > 100) throw new CorruptSnapshotError(path, 'no header line');
  const header = buf.subarray(0, nl).toString('latin1').split(' ');
  if (header.length !== 4 || `${header[0]} ${header[1]}` !== MAGIC) throw new CorruptSnapshotError(path, 'not a snapshot file');
  const length = Number(header[2]);
  const body = buf.subarray(nl + 1);
  if (!Number.isSafeInteger(length) || body.length !== length) {
    throw new CorruptSnapshotError(path, `body is ${body.length} bytes, header says ${header[2]}`);
  }
  const crc = crc32cJs(body).toString(16).padStart(8, '0');
  if (crc !== header[3]) throw new CorruptSnapshotError(path, `checksum mismatch (stored ${header[3]}, computed ${crc})`);
  let parsed: Snapshot;
  try {
    parsed = JSON.parse(body.toString('utf8')) as Snapshot;
  } catch (err) {
    throw new CorruptSnapshotError(path, `bad JSON: ${String(err)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.name !== 'string' || !Number.isSafeInteger(parsed.version) || !Number.isSafeInteger(parsed.checkpoint) || parsed.checkpoint < 0) {
    throw new CorruptSnapshotError(path, 'missing or invalid fields');
  }
  return parsed;
}
