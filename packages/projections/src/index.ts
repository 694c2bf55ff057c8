/**
 * @episteme/projections: read models over an Episteme journal, persisted with
 * their checkpoint, resumed on start, rebuilt from offset 0 when their state
 * cannot be trusted (a crash cut the log, the code changed, or asked to);
 * over an event store, projections of its decoded events, global or per
 * stream (`eventProjection`, `perStreamProjection`, `ProjectionEngine.forStore`).
 */
export * from './errors.js';
export { jsonCodec, consumerNameOf, validateProjection, MAX_PROJECTION_NAME_LENGTH, type Projection, type AnyProjection, type EventCodec, type EventMeta } from './definition.js';
export { binaryCodec, BINARY_EVENT_MARKER } from './codecs/binaryCodec.js';
export type { BinarySchema, BinaryFields, BinaryFieldType, BinaryScalar } from './codecs/binarySchema.js';
export { encodeSnapshot, decodeSnapshot, type Snapshot } from './snapshot.js';
export { FileSnapshotStore, InMemorySnapshotStore, PROJECTIONS_DIR, type SnapshotStore } from './stores.js';
export { SNAPSHOT_POSITIONS } from './backupPositions.js';
export { observeProjections } from './telemetry.js';
export { ProjectionEngine, type EngineOptions, type JournalEngineOptions, type StartOptions } from './engine.js';
export type { RebuildReason, StartReport, RebuildProgress, RebuildReport, ProjectionInfo } from './reports.js';
export { eventProjection, perStreamProjection, payloadCodec, type EventProjection, type EventProjectionOptions, type PerStreamProjection, type PerStreamProjectionOptions, type StreamStates, type EventSourceOptions } from './events/index.js';
export { registerProjections, PROJECTION_ENGINE, PROJECTIONS, type ProjectionWiring } from './di.js';
