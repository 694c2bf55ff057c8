/**
 * `@episteme/wal/cli`: the episteme-wal command line as a library, and the
 * command model both CLIs are built on: an app's own CLI (the `episteme`
 * app's) defines its commands, parses, prints usage and reports errors
 * with these pieces, and offers `wal segments|dump|verify|recover` through
 * runCli with the same implementation.
 */
export { runCli, type CliIO } from './main.js';
export { flagTyped, parseArgs, parseNonNegativeInteger, splitGlobalFlags, UsageError, type FlagSpecs, type PositionalSpec, type ParsedArgs } from './args.js';
export { CliError, ExitCode, findCommand, type Command } from './command.js';
export { reportError } from './report.js';
export { columns, commandRows, flagRows } from './usage.js';
export { ProgressLine } from './progress.js';
export { describeBackup, describeRestore } from './commands/backup.js';
export { table, plural, formatBytes, oneLine, describeCut, StdoutClosedError } from './output.js';
export { processStdout } from './processStdout.js';
export { processInterrupts } from './interrupts.js';
export { versionDetails, WAL_VERSION } from './version.js';
