import { crc32cJs } from '@episteme/wal';
import { CorruptCursorError } from './errors.js';

/** What a cursor file holds. */
export interface CursorState {
  name: string;
  /** Offset of the next record to process. */
  cursor: number;
  /** ISO time of the last commit (or of the registration). */
  committedAt: string;
  /** `registered` until a runner starts; `running` while one does (see pid). */
  state: 'registered' | 'running' | 'stopped' | 'failed';
  /** The process running the consumer, while `running`. */
  pid?: number;
  /** The handler's error message when `failed`. */
  error?: string;
}

const FORMAT = 1;

/**
 * One JSON line with a CRC32C of its own content: a cursor file is replaced
 * atomically (rename), so it is never torn, but a damaged disk or a stray
 * edit is still detected instead of read as a wrong offset.
 */
export function encodeCursorFile(state: CursorState): Uint8Array {
  const body = JSON.stringify({ format: FORMAT, ...state });
  const crc = crc32cJs(Buffer.from(body)).toString(16).padStart(8, '0');
  return Buffer.from(`${body.slice(0, -1)},"crc":"${crc}"}\n`);
}

export function decodeCursorFile(bytes: Uint8Array, path: string): CursorState {
  const text = Buffer.from(bytes).toString('utf8').trimEnd();
  const m = /^(\{.*),"crc":"([0-9a-f]{8})"\}$/s.exec(text);
  if (!m) throw new CorruptCursorError(path, 'not a cursor file (no checksum)');
  const body = `${m[1]}}`;
  const crc = crc32cJs(Buffer.from(body)).toString(16).padStart(8, '0');
  if (crc !== m[2]) throw new CorruptCursorError(path, `checksum mismatch (stored ${m[2]}, computed ${crc})`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch (err) {
    throw new CorruptCursorError(path, `bad JSON: ${String(err)}`);
  }
  if (parsed.format !== FORMAT) throw new CorruptCursorError(path, `unknown format ${String(parsed.format)}`);
  const { name, cursor, committedAt, state, pid, error } = parsed;
  if (typeof name !== 'string' || !Number.isSafeInteger(cursor) || (cursor as number) < 0 || typeof committedAt !== 'string') {
    throw new CorruptCursorError(path, 'missing or invalid fields');
  }
  if (state !== 'registered' && state !== 'running' && state !== 'stopped' && state !== 'failed') {
    throw new CorruptCursorError(path, `unknown state ${String(state)}`);
  }
  return {
    name,
    cursor: cursor as number,
    committedAt,
    state,
    ...(typeof pid === 'number' ? { pid } : {}),
    ...(typeof error === 'string' ? { error } : {}),
  };
}
