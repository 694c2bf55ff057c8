import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The CRC32C check of a run of records in one native call
 * (native/recordRun.c, built at install by scripts/build-native.mjs).
 * Walks the records from `bytes[from]`, each starting below `startBefore`,
 * whole below `end`, with a length of at most `maxPayload`, at most
 * `maxRecords` of them, and returns the index where it stopped: every
 * record from `from` up to there is whole and its CRC32C matches. The
 * record at the returned index (if any) is the caller's to classify: it
 * failed a check, or lies past a bound.
 */
export type VerifyRun = (bytes: Uint8Array, from: number, end: number, startBefore: number, maxPayload: number, maxRecords: number) => number;

/**
 * Writes the CRC32C of each record laid out back to back in
 * `bytes[from, end)` (lengths, digests and payloads written, CRC fields
 * not yet) into its CRC field; returns the index after the last record
 * filled, `end` when every record lay whole below it.
 */
export type FillRecordCrcs = (bytes: Uint8Array, from: number, end: number) => number;

export interface NativeRecordRun {
  /** Undefined when the native part is not there (`why` says so): reads then check record by record. */
  readonly verifyRun: VerifyRun | undefined;
  /** Undefined with verifyRun: appends then compute each record's CRC32C with a call of its own. */
  readonly fillRecordCrcs: FillRecordCrcs | undefined;
  readonly why: string;
}

/** native/recordRun.c's RECORD_RUN_ABI: what its functions take and mean. */
const RECORD_RUN_ABI = 2;

function load(): NativeRecordRun {
  const without = (why: string): NativeRecordRun => ({ verifyRun: undefined, fillRecordCrcs: undefined, why });
  if (process.env.EPISTEME_NATIVE_CRC === '0') return without('EPISTEME_NATIVE_CRC=0');
  // from src/checksum/ (sources) and dist/checksum/ (built) alike
  const path = fileURLToPath(new URL('../../native/build/recordRun.node', import.meta.url));
  try {
    const loaded = createRequire(import.meta.url)(path) as { verifyRun?: VerifyRun; fillRecordCrcs?: FillRecordCrcs; abi?: number };
    if (loaded.abi !== RECORD_RUN_ABI) return without(`built for another version (abi ${String(loaded.abi)}, this one needs ${RECORD_RUN_ABI}): see scripts/build-native.mjs`);
    if (typeof loaded.verifyRun !== 'function' || typeof loaded.fillRecordCrcs !== 'function') return without('this CPU has no SSE4.2');
    return { verifyRun: loaded.verifyRun, fillRecordCrcs: loaded.fillRecordCrcs, why: 'loaded' };
  } catch (err) {
    return without(`not built (${(err as Error).message.split('\n')[0]}): see scripts/build-native.mjs`);
  }
}

export const nativeRecordRun: NativeRecordRun = load();

/**
 * Whether this process checks runs of records natively
 * (docs/performance.md, "The native record check"): `why` is `'loaded'`, or
 * the reason it is not (not built, turned off, no SSE4.2).
 */
export function nativeRecordCheck(): { loaded: boolean; why: string } {
  return { loaded: nativeRecordRun.verifyRun !== undefined, why: nativeRecordRun.why };
}
