import type { CursorState } from '@episteme/wal';
import { crc32cHex, crc32cJs, isAllZero } from '@episteme/wal/internals';
import { CorruptCursorError } from './errors.js';

/*
 * Format 2: two fixed slots of SLOT_BYTES, each one JSON line with a
 * sequence number and a CRC32C of its own content, zero-padded. A commit
 * overwrites the slot that does not hold the latest state, in place, and
 * syncs the file: one fdatasync of an overwrite, no new inode, no rename, no
 * directory sync (a cursor commit used to cost two journal commits of the
 * file system). A power loss during the write can only tear that slot; the
 * other still holds the previous commit, which was durable before this one
 * started (a consumer has at most one commit in flight). Readers take the
 * valid slot with the highest sequence. The file itself is created whole
 * (write new, sync, rename, sync the directory).
 *
 * Format 1 (one JSON line, replaced by rename on every commit) is still
 * read; the next commit rewrites such a file as format 2.
 */
export const SLOT_BYTES = 4096;
/**
 * After the slots: the sequence of the last commit whose sync completed
 * (8 bytes LE, then its CRC32C, 4 bytes, then 4 zero bytes), written
 * without a sync once that sync returned. Other processes see a commit as
 * soon as it is written, before it is durable; cleanup must only trust what
 * this marker names (see CursorFileContents.floor). Lost or torn, it only
 * makes cleanup more careful.
 */
export const MARKER_BYTES = 16;
export const MARKER_POSITION = 2 * SLOT_BYTES;
export const CURSOR_FILE_BYTES = 2 * SLOT_BYTES + MARKER_BYTES;
/** Room kept for everything but the error message in a slot. */
const MAX_ERROR_CHARS = 1024;

/** A decoded cursor file: the latest state, and where the next in-place commit goes. */
export interface CursorFileContents {
  state: CursorState;
  /** Sequence of the latest slot (0 for a format-1 file). */
  seq: number;
  /**
   * The cursor of the last commit known to be durable: the slot the marker
   * names, or else the lowest of the valid slots (the previous commit was
   * durable before the latest started). The latest may still be in flight
   * (written, not yet synced: another process already sees it), so cleanup
   * decides with this one.
   */
  floor: number;
  /** The state in the floor's slot, with its sequence (a whole rewrite keeps it as the previous commit). */
  floorState: { state: CursorState; seq: number };
  /** Slot the next commit overwrites, or undefined when the file must be rewritten whole (format 1). */
  nextSlot: 0 | 1 | undefined;
}

/**
 * A new format-2 file: the state in slot 0, and in slot 1 the previous
 * commit when there is one (so that the file's floor, the cursor cleanup
 * trusts, stays the durable one while the new file is not yet durable).
 */
export function encodeCursorFile(state: CursorState, previous?: { state: CursorState; seq: number }): Uint8Array {
  const file = new Uint8Array(CURSOR_FILE_BYTES);
  file.set(encodeCursorSlot(state, previous ? previous.seq + 1 : 1), 0);
  if (previous) {
    file.set(encodeCursorSlot(previous.state, previous.seq), SLOT_BYTES);
    file.set(encodeDurableMarker(previous.seq), MARKER_POSITION); // durable already; the new state once renamed and synced
  }
  return file;
}

/** The marker naming commit `seq` as durable. */
export function encodeDurableMarker(seq: number): Uint8Array {
  const marker = new Uint8Array(MARKER_BYTES);
  const view = new DataView(marker.buffer);
  view.setBigUint64(0, BigInt(seq), true);
  view.setUint32(8, crc32cJs(marker, 0, 8), true);
  return marker;
}

function decodeDurableMarker(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, MARKER_BYTES);
  if (view.getUint32(8, true) !== crc32cJs(bytes, 0, 8) || view.getUint32(12, true) !== 0) return undefined;
  const seq = Number(view.getBigUint64(0, true));
  return seq > 0 && Number.isSafeInteger(seq) ? seq : undefined;
}

/**
 * One slot holding `state` with sequence `seq`, zero-padded to SLOT_BYTES:
 * written over `into` when given (a run's commits reuse one, rather than
 * a fresh 4 KiB buffer for the garbage collector each time).
 */
export function encodeCursorSlot(state: CursorState, seq: number, into?: Uint8Array): Uint8Array {
  const fitted = state.error !== undefined && state.error.length > MAX_ERROR_CHARS ? { ...state, error: `${state.error.slice(0, MAX_ERROR_CHARS)}…` } : state;
  const line = signedLine({ format: 2, seq, ...fitted });
  if (line.length > SLOT_BYTES) throw new RangeError(`cursor state of "${state.name}" does not fit a ${SLOT_BYTES}-byte slot`);
  const slot = into ?? new Uint8Array(SLOT_BYTES);
  slot.set(line);
  if (into) slot.fill(0, line.length, SLOT_BYTES);
  return slot;
}

export function decodeCursorFile(bytes: Uint8Array, path: string): CursorState {
  return decodeCursorFileContents(bytes, path).state;
}

/**
 * The latest state of a cursor file of either format, and the slot the next
 * commit may overwrite. A file with no valid slot is a CorruptCursorError:
 * never a guessed position.
 */
export function decodeCursorFileContents(bytes: Uint8Array, path: string): CursorFileContents {
  if (bytes.length !== CURSOR_FILE_BYTES) {
    const { state } = decodeLine(Buffer.from(bytes).toString('utf8').trimEnd(), path, 1);
    return { state, seq: 0, floor: state.cursor, floorState: { state, seq: 0 }, nextSlot: undefined };
  }
  let best: { state: CursorState; seq: number; slot: 0 | 1 } | undefined;
  let oldest: { state: CursorState; seq: number } | undefined;
  let marked: { state: CursorState; seq: number } | undefined;
  const durableSeq = decodeDurableMarker(bytes.subarray(MARKER_POSITION));
  const problems: string[] = [];
  for (const slot of [0, 1] as const) {
    const raw = bytes.subarray(slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES);
    const newline = raw.indexOf(0x0a);
    if (newline < 0) {
      problems.push(`slot ${slot}: ${isAllZero(raw, 0, raw.length) ? 'empty' : 'no complete line'}`);
      continue;
    }
    // not raw.every(): a closure call per byte cost ~25 µs a slot, most of a commit's CPU
    if (!isAllZero(raw, newline + 1, raw.length)) {
      problems.push(`slot ${slot}: bytes after its line`);
      continue;
    }
    try {
      const decoded = decodeLine(Buffer.from(raw.buffer, raw.byteOffset, newline).toString('utf8'), path, 2);
      if (!best || decoded.seq > best.seq) best = { ...decoded, slot };
      if (!oldest || decoded.state.cursor < oldest.state.cursor) oldest = decoded;
      if (decoded.seq === durableSeq) marked = decoded;
    } catch (err) {
      problems.push(`slot ${slot}: ${err instanceof CorruptCursorError ? err.why : String(err)}`);
    }
  }
  if (!best) throw new CorruptCursorError(path, `no valid slot (${problems.join('; ')})`);
  const floorState = marked ?? oldest!;
  return { state: best.state, seq: best.seq, floor: floorState.state.cursor, floorState, nextSlot: best.slot === 0 ? 1 : 0 };
}

/**
 * `{...fields,"crc":"<crc32c of the JSON without it>"}` and a newline. Not
 * the header-line envelope of the recovery point and snapshots: each slot is
 * one self-checking line, so its checksum sits inside it (format 2 on disk).
 */
function signedLine(fields: Record<string, unknown>): Uint8Array {
  const body = JSON.stringify(fields);
  const crc = crc32cHex(Buffer.from(body));
  return Buffer.from(`${body.slice(0, -1)},"crc":"${crc}"}\n`);
}

function decodeLine(text: string, path: string, format: 1 | 2): { state: CursorState; seq: number } {
  const m = /^(\{.*),"crc":"([0-9a-f]{8})"\}$/s.exec(text);
  if (!m) throw new CorruptCursorError(path, 'not a cursor file (no checksum)');
  const body = `${m[1]}}`;
  const crc = crc32cHex(Buffer.from(body));
  if (crc !== m[2]) throw new CorruptCursorError(path, `checksum mismatch (stored ${m[2]}, computed ${crc})`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch (err) {
    throw new CorruptCursorError(path, `bad JSON: ${String(err)}`);
  }
  if (parsed.format !== format) throw new CorruptCursorError(path, `unknown format ${String(parsed.format)}`);
  const seq = format === 1 ? 0 : parsed.seq;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0) throw new CorruptCursorError(path, 'missing or invalid sequence');
  const { name, cursor, committedAt, state, pid, error } = parsed;
  if (typeof name !== 'string' || !Number.isSafeInteger(cursor) || (cursor as number) < 0 || typeof committedAt !== 'string') {
    throw new CorruptCursorError(path, 'missing or invalid fields');
  }
  if (state !== 'registered' && state !== 'running' && state !== 'stopped' && state !== 'failed') {
    throw new CorruptCursorError(path, `unknown state ${String(state)}`);
  }
  return {
    seq: seq as number,
    state: {
      name,
      cursor: cursor as number,
      committedAt,
      state,
      ...(typeof pid === 'number' ? { pid } : {}),
      ...(typeof error === 'string' ? { error } : {}),
    },
  };
}
