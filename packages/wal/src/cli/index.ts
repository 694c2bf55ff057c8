/**
 * `@episteme/wal/cli`: the episteme-wal command line as a library, so that an
 * app's own CLI can offer `wal segments|dump|verify|recover|append` with the
 * same implementation, and reuse the small argument parser and output helpers.
 */
export { runCli, type CliIO } from './main.js';
export { missingValue, parseArgs, parseNonNegativeInteger, UsageError, type FlagSpecs, type PositionalSpec, type ParsedArgs } from './args.js';
export { ProgressLine } from './progress.js';
export { table, plural, formatBytes, oneLine, describeCut, StdoutClosedError } from './output.js';
export { processStdout } from './processStdout.js';
export { processInterrupts } from './interrupts.js';
export { versionDetails, WAL_VERSION } from './version.js';
