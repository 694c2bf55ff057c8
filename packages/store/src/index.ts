/**
 * @episteme/store: the event store on an Episteme journal. Streams with
 * expected versions, atomic and idempotent commits, reads and aggregation
 * by stream, a global read in log order, typed events and upcasters.
 * Model: docs/streams.md. Bytes: docs/FORMAT.md ("Commits", "Stream index
 * checkpoint").
 */
export { openEventStore } from './openEventStore.js';
export { LocalEventStore, type IndexOpenStats } from './localEventStore.js';
export type { StreamCommit, CommitOutcome } from './appendEach.js';
export { EncodedCommitsBuilder, eventsOfEncoded, type EncodedCommits } from './commit/encodedCommits.js';
export type { EncodedOutcomes } from './appendEncoded.js';
export { DEFAULT_STORE_OPTIONS, type EventStoreOptions } from './options.js';
export type {
  AggregateStreamOptions,
  AggregateStreamResult,
  AppendOptions,
  AppendResult,
  DeleteStreamOptions,
  DeleteStreamResult,
  Event,
  EventData,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  RecordedFields,
  Upcaster,
} from './types.js';
export { createEventDecoder, deletedStreamOf, validateEventFilter, type EventDecoder, type EventDecoderOptions, type EventFilter } from './eventDecoder.js';
export { matchesExpectedVersion } from './expectedVersion.js';
export { validateStreamName, MAX_STREAM_NAME_LENGTH } from './streamName.js';
export { uuidv7 } from './uuidv7.js';
export { STREAM_INDEX_POSITIONS } from './index/backupPositions.js';
export {
  StoreErrorCodes,
  StoreError,
  isStoreError,
  VersionConflictError,
  DuplicateEventIdError,
  InvalidStreamNameError,
  StoreInvalidArgumentError,
  CommitTooLargeError,
  StreamDeletedError,
  StreamNotFoundError,
  CommitAbortedError,
  CorruptCommitError,
  StoreClosedError,
  type StoreErrorCode,
  type StoreWarning,
} from './errors.js';
