/**
 * Pieces every package needs once: the checksummed-file envelope, errno
 * helpers, sleep, process liveness and the quiet closers. For the packages
 * of Episteme, not for applications: unstable, no semver promise.
 */
export { crc32cHex, openEnvelope, sealEnvelope, type EnvelopeLayout } from './checksummedFile.js';
export { codeOf, errnoOf, hasErrno } from './errno.js';
export { isProcessAlive } from './liveness.js';
export { sleep } from './sleep.js';
export { closeQuietly, unlinkQuietly } from '../io/closers.js';
