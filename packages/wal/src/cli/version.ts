import { createRequire } from 'node:module';
import { nativeRecordCheck } from '../checksum/recordRun.js';
import { FORMAT_VERSION } from '../format/constants.js';

const require = createRequire(import.meta.url);

/** This package's version, from its package.json (src/cli and dist/cli both sit two levels below it). */
export const WAL_VERSION = (require('../../package.json') as { version: string }).version;

/**
 * What `--version` prints after the program's name and version: what a bug
 * report needs (the journal format the code writes, the Node that runs it,
 * whether reads check runs of records natively: docs/performance.md).
 */
export function versionDetails(): string {
  const native = nativeRecordCheck();
  // the reason without its details: 'not built', 'EPISTEME_NATIVE_CRC=0', ... (nativeRecordCheck() has the rest)
  return `journal format v${FORMAT_VERSION}, Node ${process.version}, native record check ${native.loaded ? 'on' : `off: ${native.why.split(' (')[0]}`}`;
}
