import { createRequire } from 'node:module';
import { FORMAT_VERSION } from '../format/constants.js';

const require = createRequire(import.meta.url);

/** This package's version, from its package.json (src/cli and dist/cli both sit two levels below it). */
export const WAL_VERSION = (require('../../package.json') as { version: string }).version;

/**
 * What `--version` prints after the program's name and version: what a bug
 * report needs (the journal format the code writes, the Node that runs it).
 */
export function versionDetails(): string {
  return `journal format v${FORMAT_VERSION}, Node ${process.version}`;
}
