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

export interface NativeRecordRun {
  /** Undefined when the native part is not there (`why` says so): reads then check record by record. */
  readonly verifyRun: VerifyRun | undefined;
  readonly why: string;
}

/** native/recordRun.c's RECORD_RUN_ABI: what verifyRun takes and means. */
const RECORD_RUN_ABI = 1;

function load(): NativeRecordRun {
  if (process.env.EPISTEME_NATIVE_CRC === '0') return { verifyRun: undefined, why: 'EPISTEME_NATIVE_CRC=0' };
  // from src/checksum/ (sources) and dist/checksum/ (built) alike
  const path = fileURLToPath(new URL('../../native/build/recordRun.node', import.meta.url));
  try {
    const loaded = createRequire(import.meta.url)(path) as { verifyRun?: VerifyRun; abi?: number };
    if (loaded.abi !== RECORD_RUN_ABI) return { verifyRun: undefined, why: `built for another version (abi ${String(loaded.abi)}, this one needs ${RECORD_RUN_ABI}): see scripts/build-native.mjs` };
    if (typeof loaded.verifyRun !== 'function') return { verifyRun: undefined, why: 'this CPU has no SSE4.2' };
    return { verifyRun: loaded.verifyRun, why: 'loaded' };
  } catch (err) {
    return { verifyRun: undefined, why: `not built (${(err as Error).message.split('\n')[0]}): see scripts/build-native.mjs` };
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
