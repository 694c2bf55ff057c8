/** The assertions app as a library: domain, wiring, projections, and the CLI entry. */
export * from './domain/events.js';
export * from './domain/prepare.js';
export { prepareLine, type PreparedLine } from './domain/prepareLine.js';
export * from './app/config.js';
export * from './domain/assertionErrors.js';
export { wire, wireReader, appOf, readerAppOf, journalOptionsOf, APP_CONFIG, JOURNAL_OPTIONS, EVENT_STORE, AUDIT_EXPORTER, PROJECTIONS, type WireOptions } from './app/container.js';
export { LegacyDataError } from './app/openStore.js';
export { AssertionService, type Appended } from './app/assertionService.js';
export { beliefsProjection, beliefsAbout, type BeliefsState, type Belief, type SubjectBeliefs } from './projections/beliefs.js';
export { statsProjection, type StatsState } from './projections/stats.js';
export { AuditExporter, AUDIT_CONSUMER } from './consumers/auditExport.js';
export { runCli } from './cli/main.js';
export { defaultPrepareOptions, PreparePool, WORKER_FROM_BYTES, type PreparePoolOptions } from './import/preparePool.js';
export { runAppendPhase, type AppendPhaseResult } from './demo/appendPhase.js';
export { assertionInput } from './demo/generate.js';
