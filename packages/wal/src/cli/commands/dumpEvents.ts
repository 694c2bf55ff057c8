import { RECORD_OVERHEAD } from '../../format/constants.js';
import { CliError, ExitCode } from '../command.js';

/**
 * `dump --events`: records shown as the event store's commits. The store
 * sits above the journal, and the journal never imports it statically
 * (docs/architecture.md): its formatter is loaded here, only when asked,
 * with a dynamic import of `@episteme/store/internals` (the one optional
 * upward load). The shape below is what that module's `describeCommit`
 * returns; it is declared here so that this package's types do not depend
 * on the store.
 */
export const STORE_FORMATTER = '@episteme/store/internals';

export type Description =
  | { kind: 'commit'; stream: string; firstPosition: number; count: number; recordedAt: string; events: DescribedEvent[] }
  | { kind: 'tombstone'; stream: string; version: number; recordedAt: string }
  | { kind: 'not-a-commit'; code: string; reason: string };

interface DescribedEvent {
  id: string;
  type: string;
  streamPosition: number;
  globalPosition: number;
  data?: unknown;
  dataBase64?: string;
  metadata?: Record<string, unknown>;
}

export type Describe = (payload: Uint8Array, offset: number) => Description;

/** The store's formatter, or a usage error saying what to install. */
export async function loadDescribe(importModule: (specifier: string) => Promise<unknown>): Promise<Describe> {
  let mod: unknown;
  try {
    mod = await importModule(STORE_FORMATTER);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new CliError(ExitCode.Usage, `--events needs the event store's formatter (${STORE_FORMATTER}), which cannot be loaded: ${why}; install @episteme/store beside @episteme/wal, or dump without --events`, 'CLI_EVENTS_UNAVAILABLE');
  }
  const describe = (mod as { describeCommit?: unknown } | undefined)?.describeCommit;
  if (typeof describe !== 'function') {
    throw new CliError(ExitCode.Usage, `--events needs ${STORE_FORMATTER} to export describeCommit (an older @episteme/store?); dump without --events`, 'CLI_EVENTS_UNAVAILABLE');
  }
  return describe as Describe;
}

type LineFormat = (offset: number, length: number, buf: Uint8Array, index: number) => string;

const payloadOf = (buf: Uint8Array, index: number, length: number): Uint8Array => buf.subarray(index + RECORD_OVERHEAD, index + RECORD_OVERHEAD + length);

/** One JSON object per record: `{"offset","length", ...the description}`. */
export function eventsJsonLine(describe: Describe): LineFormat {
  return (offset, length, buf, index) => JSON.stringify({ offset, length, ...describe(payloadOf(buf, index, length), offset) }) + '\n';
}

const PREVIEW_CHARS = 120;

/** Printable and on one line: control characters would corrupt the terminal. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '.');
  return safe.length > PREVIEW_CHARS ? safe.slice(0, PREVIEW_CHARS) + '...' : safe;
}

/** A line per record, then one indented line per event of a commit. */
export function eventsTextLine(describe: Describe): LineFormat {
  return (offset, length, buf, index) => {
    const d = describe(payloadOf(buf, index, length), offset);
    const at = String(offset).padStart(12);
    if (d.kind === 'not-a-commit') return `${at}  not a store commit (${length} bytes): ${d.reason}\n`;
    if (d.kind === 'tombstone') return `${at}  tombstone of ${d.stream} (deleted at version ${d.version})  ${d.recordedAt}\n`;
    const last = d.firstPosition + d.count - 1;
    const lines = [`${at}  commit to ${d.stream}, position${d.count === 1 ? ` ${d.firstPosition}` : `s ${d.firstPosition}-${last}`}  ${d.recordedAt}`];
    for (const e of d.events) {
      const data = e.dataBase64 !== undefined ? `bytes(base64) ${preview(e.dataBase64)}` : preview(e.data);
      lines.push(`${''.padStart(14)}#${e.streamPosition} @${e.globalPosition} ${e.type} id ${e.id} ${data}${e.metadata ? ` metadata ${preview(e.metadata)}` : ''}`);
    }
    return lines.join('\n') + '\n';
  };
}
