import { EpistemeError, isEpistemeError, type ErrorCategory } from '@episteme/wal';

/**
 * Every error @episteme/projections throws is a ProjectionError (an
 * EpistemeError) with a stable `code` and a `category`.
 */
export const ProjectionErrorCodes = {
  /** A rebuild needs records that cleanup already deleted. */
  HistoryDeleted: 'PROJECTION_HISTORY_DELETED',
  /** No projection of that name is registered with the engine. */
  NotFound: 'PROJECTION_NOT_FOUND',
  /** A snapshot file cannot be decoded or fails its checksum. */
  CorruptSnapshot: 'PROJECTION_CORRUPT_SNAPSHOT',
  /** The projection's apply function or codec threw. */
  ApplyFailed: 'PROJECTION_APPLY_FAILED',
  /** Bad definition, options or arguments. */
  InvalidArgument: 'PROJECTION_INVALID_ARGUMENT',
  /** `start()` while the engine is started (or starting), or a rebuild that would race another one. */
  Busy: 'PROJECTION_BUSY',
  /** A projection's state cannot be written as a snapshot (not JSON, and no working `serialize`). */
  StateNotSerializable: 'PROJECTION_STATE_NOT_SERIALIZABLE',
  /** A payload is not an event of the binary codec's schema (damaged, of another codec, or of another schema). */
  UndecodableEvent: 'PROJECTION_UNDECODABLE_EVENT',
  /** An event does not fit the binary codec's schema, so it cannot be encoded. */
  EventNotEncodable: 'PROJECTION_EVENT_NOT_ENCODABLE',
} as const;

export type ProjectionErrorCode = (typeof ProjectionErrorCodes)[keyof typeof ProjectionErrorCodes];

/** The category of each code: a new code without one does not compile. */
const ProjectionErrorCategories: Readonly<Record<ProjectionErrorCode, ErrorCategory>> = {
  // the log no longer holds what a rebuild needs: not the caller's input, and not damage
  PROJECTION_HISTORY_DELETED: 'state',
  PROJECTION_NOT_FOUND: 'not-found',
  PROJECTION_CORRUPT_SNAPSHOT: 'corrupt',
  // the projection stopped on a record its own code could not apply
  PROJECTION_APPLY_FAILED: 'state',
  PROJECTION_INVALID_ARGUMENT: 'invalid-input',
  PROJECTION_BUSY: 'state',
  // the state the projection reached cannot be saved (found at save time, not in what the caller passed)
  PROJECTION_STATE_NOT_SERIALIZABLE: 'state',
  // bytes that are not what the schema says: damage, or a payload of another codec or schema
  PROJECTION_UNDECODABLE_EVENT: 'corrupt',
  // the caller's event does not fit the schema it gave
  PROJECTION_EVENT_NOT_ENCODABLE: 'invalid-input',
};

export class ProjectionError extends EpistemeError<ProjectionErrorCode> {
  constructor(code: ProjectionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, ProjectionErrorCategories[code], message, options);
  }
}

/** An EpistemeError of this package (a `PROJECTION_*` code), and when `code` is given, of that code. */
export function isProjectionError(err: unknown, code?: ProjectionErrorCode): err is ProjectionError {
  return isEpistemeError(err, code) && err.code.startsWith('PROJECTION_');
}

/**
 * A rebuild from offset 0 would start from a partial log: refused, and the
 * old snapshot stays in place.
 */
export class HistoryDeletedError extends ProjectionError {
  /** `snapshotCheckpoint`: the checkpoint of the snapshot kept, when the projection has one (-1: none). */
  /** `missing`: the archive file that is gone, when the log keeps its history in an archive (LogReader.missingHistory). */
  constructor(readonly projection: string, readonly earliest: number, snapshotCheckpoint = -1, readonly missing?: string) {
    super(
      ProjectionErrorCodes.HistoryDeleted,
      `cannot rebuild projection "${projection}" from offset 0: ` +
        (missing === undefined ? `cleanup deleted every record below offset ${earliest}; ` : `the history below offset ${earliest} is missing from the archive (${missing}); `) +
        (snapshotCheckpoint >= 0 ? `its snapshot (checkpoint ${snapshotCheckpoint}) was kept` : 'nothing was changed (it has no usable snapshot)'),
    );
  }
}

export class ProjectionNotFoundError extends ProjectionError {
  constructor(readonly projection: string) {
    super(ProjectionErrorCodes.NotFound, `no projection named "${projection}" is registered`);
  }
}

export class CorruptSnapshotError extends ProjectionError {
  constructor(readonly path: string, why: string) {
    super(ProjectionErrorCodes.CorruptSnapshot, `snapshot ${path} is damaged: ${why}`);
  }
}

export class ApplyFailedError extends ProjectionError {
  constructor(readonly projection: string, readonly offset: number, cause: unknown) {
    super(
      ProjectionErrorCodes.ApplyFailed,
      `projection "${projection}" failed on the record at offset ${offset}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

export class InvalidProjectionArgumentError extends ProjectionError {
  constructor(message: string) {
    super(ProjectionErrorCodes.InvalidArgument, message);
  }
}

/**
 * Refused because the engine (or that projection) is busy: a second follow
 * loop would be one that `stop()` cannot reach. Nothing was changed.
 */
export class ProjectionBusyError extends ProjectionError {
  constructor(message: string) {
    super(ProjectionErrorCodes.Busy, message);
  }
}

/** The state could not be turned into a snapshot: no snapshot was written, the old one stays. */
export class StateNotSerializableError extends ProjectionError {
  constructor(readonly projection: string, cause: unknown) {
    super(
      ProjectionErrorCodes.StateNotSerializable,
      `projection "${projection}": its state cannot be saved as a snapshot: ${cause instanceof Error ? cause.message : String(cause)} ` +
        '(state must be JSON-serializable, or the projection must give serialize and deserialize)',
      { cause },
    );
  }
}

/** A binary codec's payload that does not decode as its schema says: no value is made of it. */
export class UndecodableEventError extends ProjectionError {
  constructor(readonly at: number, why: string) {
    super(ProjectionErrorCodes.UndecodableEvent, `payload is not an event of this binary codec (at byte ${at}): ${why}`);
  }
}

/** An event the binary codec's schema cannot hold (nothing is encoded). */
export class EventNotEncodableError extends ProjectionError {
  constructor(readonly path: string, why: string) {
    super(ProjectionErrorCodes.EventNotEncodable, `event cannot be encoded by this binary codec: ${path}: ${why}`);
  }
}
